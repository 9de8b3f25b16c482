/**
 * The shape of a kintone record as the REST API and the JS API both return it:
 * field code -> { type, value }. Values stay `unknown` here; readers narrow them per type.
 */
export interface KintoneField {
  type: string;
  value: unknown;
}

export type KintoneRecord = Record<string, KintoneField>;

/** One entry of `GET /k/v1/app/form/fields.json` `properties` (the parts we read). */
export interface FieldProperty {
  type: string;
  code: string;
  label: string;
  /** Present for SUBTABLE: the fields inside it. */
  fields?: Record<string, FieldProperty>;
  /** Present for choice fields (radio, checkbox, drop-down, multi-select). */
  options?: Record<string, { label: string; index: string }>;
}

export type FieldProperties = Record<string, FieldProperty>;

/** What a process-management action says happened to a record. */
export interface StatusChange {
  action: string;
  status: string;
  nextStatus: string;
}
