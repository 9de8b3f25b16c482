/** The JSON Schema subset the LINE contract uses (what ts-json-schema-generator emits, plus `discriminator`). */
export type JsonType = "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";

export interface JsonSchema {
  $ref?: string;
  $comment?: string;
  type?: JsonType | JsonType[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  /** OpenAPI's keyword: the tag property of a union and which definition each tag selects. */
  discriminator?: { propertyName: string; mapping: Record<string, string> };
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: "uri" | "uuid";
}

export interface ContractOperation {
  contentType: "application/json" | "application/x-www-form-urlencoded";
  /** A name in `definitions`. */
  schema: string;
}

export interface LineContract {
  $schema: string;
  $comment: string;
  source: { package: string; version: string };
  /** "POST /v2/bot/message/push" -> its request body. */
  operations: Record<string, ContractOperation>;
  definitions: Record<string, JsonSchema>;
}
