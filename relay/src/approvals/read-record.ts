import type { KintoneRecord } from "../../../common/kintone/record.js";

/** What a step is decided on: the record's status, revision, assignees and last modifier, as kintone answered. */
export interface RecordState {
  status: string | undefined;
  revision: number;
  assignees: string[];
  modifier: string | undefined;
}

/** Reads the parts of a record a step needs, by field type (the system fields' codes vary per app and language). */
export function recordStateOf(record: KintoneRecord): RecordState {
  const fields = Object.values(record);
  const status = fields.find((field) => field.type === "STATUS")?.value;
  const assignees = fields.find((field) => field.type === "STATUS_ASSIGNEE")?.value;
  const modifier = fields.find((field) => field.type === "MODIFIER")?.value;
  const revision = Number(record["$revision"]?.value);
  return {
    status: typeof status === "string" ? status : undefined,
    revision: Number.isSafeInteger(revision) ? revision : Number.NaN,
    assignees: Array.isArray(assignees) ? assignees.flatMap((user: unknown) => codeOf(user)) : [],
    modifier: codeOf(modifier)[0],
  };
}

function codeOf(user: unknown): string[] {
  const code = typeof user === "object" && user !== null ? (user as { code?: unknown }).code : undefined;
  return typeof code === "string" && code !== "" ? [code] : [];
}
