/** A plausible record for the preview when the app has none to show. */
import type { FieldProperties, FieldProperty, KintoneRecord } from "../../../common/kintone/record";
import { choiceOptions } from "./field-types";

function sampleValue(field: FieldProperty, now: Date): unknown {
  const iso = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  switch (field.type) {
    case "SINGLE_LINE_TEXT":
    case "LINK":
      return field.code.toLowerCase().includes("line") ? `U${"0".repeat(32)}` : `${field.label} (sample)`;
    case "MULTI_LINE_TEXT":
      return `${field.label} (sample)\nsecond line`;
    case "RICH_TEXT":
      return `<b>${field.label}</b> (sample)`;
    case "NUMBER":
    case "CALC":
      return "12500";
    case "RECORD_NUMBER":
    case "__ID__":
      return "1";
    case "__REVISION__":
      return "1";
    case "DATE":
      return iso.slice(0, 10);
    case "TIME":
      return "09:30";
    case "DATETIME":
    case "CREATED_TIME":
    case "UPDATED_TIME":
      return iso;
    case "RADIO_BUTTON":
    case "DROP_DOWN":
      return choiceOptions(field)[0] ?? "";
    case "CHECK_BOX":
    case "MULTI_SELECT":
      return choiceOptions(field).slice(0, 2);
    case "CREATOR":
    case "MODIFIER":
      return { code: "sato", name: "Sato Hanako" };
    case "USER_SELECT":
      return [{ code: "sato", name: "Sato Hanako" }];
    case "ORGANIZATION_SELECT":
    case "GROUP_SELECT":
      return [{ code: "sales", name: "Sales" }];
    case "STATUS":
      return "In progress";
    case "STATUS_ASSIGNEE":
      return [{ code: "sato", name: "Sato Hanako" }];
    case "CATEGORY":
      return [];
    case "FILE":
      return [];
    case "SUBTABLE":
      return [];
    default:
      return "";
  }
}

export function synthesizeRecord(fields: FieldProperties, now = new Date()): KintoneRecord {
  const record: KintoneRecord = {};
  for (const field of Object.values(fields)) {
    if (["GROUP", "LABEL", "SPACER", "HR", "REFERENCE_TABLE"].includes(field.type)) continue;
    record[field.code] = { type: field.type, value: sampleValue(field, now) };
  }
  record.$id ??= { type: "__ID__", value: "1" };
  return record;
}
