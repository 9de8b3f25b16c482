import type { KintoneRecord } from "../../common/kintone/record.js";
import { KintoneApiError, invalidInput } from "./errors.js";

/**
 * kintone's query language, for the operators the relay and its tests use, as cybozu.dev describes
 * it ("クエリの書き方", https://cybozu.dev/ja/kintone/docs/overview/query/; get records,
 * https://cybozu.dev/ja/kintone/docs/rest-api/records/get-records/):
 *   condition  = field op value | field [not] in (value, ...) | ( condition ) | condition and|or condition
 *   op         = "=" "!=" ">" "<" ">=" "<="
 *   value      = "double-quoted string" (\" and \\ escaped) | number | TODAY()
 *   then, in this order only: order by field asc|desc [, ...]   limit n (1..500, default 100)   offset n (0..10,000)
 * Without `order by` records come newest first ($id desc). A field not in the app, an operator
 * the field type does not take, or anything else is refused, never guessed at: an emulator that
 * allows more than kintone hides bugs. Not emulated (refused): like, functions other than TODAY(),
 * subtable fields, user/organization fields.
 */

export interface ParsedQuery {
  where: Condition | undefined;
  orderBy: Array<{ field: string; desc: boolean }>;
  limit: number | undefined;
  offset: number | undefined;
}

type Op = "=" | "!=" | ">" | "<" | ">=" | "<=" | "in" | "not in";
type Condition =
  | { kind: "compare"; field: string; op: Op; values: string[] }
  | { kind: "and" | "or"; left: Condition; right: Condition };

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;
export const MAX_OFFSET = 10_000;

/**
 * The query is wrong. Code and texts: GAIA_IQ11 is what kintone answers for a field the app does
 * not have; the syntax errors share it here (UNCONFIRMED: kintone's exact codes and texts for each
 * syntax mistake are not documented on cybozu.dev).
 */
export const queryError = (en: string, ja: string) => new KintoneApiError(400, "GAIA_IQ11", { en, ja });

type Token = { kind: "word" | "string" | "number" | "op" | "punct"; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let text = "";
      i++;
      for (;;) {
        if (i >= query.length) throw queryError("The query has an unclosed string.", "クエリの文字列が閉じられていません。");
        const d = query[i] as string;
        if (d === "\\" && i + 1 < query.length) {
          text += query[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: "string", text });
    } else if ("(),".includes(c)) {
      tokens.push({ kind: "punct", text: c });
      i++;
    } else if (/[<>=!]/.test(c)) {
      const two = query.slice(i, i + 2);
      const op = [">=", "<=", "!="].includes(two) ? two : c;
      if (op === "!") throw queryError("The query has an unknown operator.", "クエリに不明な演算子があります。");
      tokens.push({ kind: "op", text: op });
      i += op.length;
    } else if (/[-0-9]/.test(c) && /^-?[0-9]/.test(query.slice(i, i + 2))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "number", text: m[0] });
      i += m[0].length;
    } else {
      const m = /^[^\s()",<>=!]+/.exec(query.slice(i));
      if (!m) throw queryError("The query cannot be read.", "クエリを読み取れません。");
      tokens.push({ kind: "word", text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const isWord = (token: Token | undefined, word: string) => token?.kind === "word" && token.text.toLowerCase() === word;

export function parseQuery(query: string): ParsedQuery {
  const tokens = tokenize(query);
  let at = 0;
  const peek = (ahead = 0) => tokens[at + ahead];
  const syntax = () => queryError(`The query syntax is wrong near "${peek()?.text ?? "(end)"}".`, `クエリ記法が間違っています（「${peek()?.text ?? "(末尾)"}」付近）。`);
  const atClause = () => (isWord(peek(), "order") && isWord(peek(1), "by")) || isWord(peek(), "limit") || isWord(peek(), "offset");

  const value = (): string => {
    const token = peek();
    if (token?.kind === "string" || token?.kind === "number") {
      at++;
      return token.text;
    }
    if (token?.kind === "word" && token.text.toUpperCase() === "TODAY" && peek(1)?.text === "(" && peek(2)?.text === ")") {
      at += 3;
      return "TODAY()";
    }
    throw syntax();
  };
  const comparison = (): Condition => {
    const field = peek();
    if (field?.kind !== "word") throw syntax();
    at++;
    let op: Op;
    if (isWord(peek(), "in")) {
      op = "in";
      at++;
    } else if (isWord(peek(), "not") && isWord(peek(1), "in")) {
      op = "not in";
      at += 2;
    } else if (peek()?.kind === "op") {
      op = (peek() as Token).text as Op;
      at++;
    } else {
      throw syntax();
    }
    if (op === "in" || op === "not in") {
      if (peek()?.text !== "(") throw syntax();
      at++;
      const values = [value()];
      while (peek()?.text === ",") {
        at++;
        values.push(value());
      }
      if (peek()?.text !== ")") throw syntax();
      at++;
      return { kind: "compare", field: field.text, op, values };
    }
    return { kind: "compare", field: field.text, op, values: [value()] };
  };
  const primary = (): Condition => {
    if (peek()?.text === "(" && peek()?.kind === "punct") {
      at++;
      const inner = orExpr();
      if (peek()?.text !== ")") throw syntax();
      at++;
      return inner;
    }
    return comparison();
  };
  const andExpr = (): Condition => {
    let left = primary();
    while (isWord(peek(), "and")) {
      at++;
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  function orExpr(): Condition {
    let left = andExpr();
    while (isWord(peek(), "or")) {
      at++;
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  }
  const integer = (): number => {
    const token = peek();
    if (token?.kind !== "number" || !/^[0-9]+$/.test(token.text)) throw syntax();
    at++;
    return Number(token.text);
  };

  const where = at < tokens.length && !atClause() ? orExpr() : undefined;
  const orderBy: ParsedQuery["orderBy"] = [];
  if (isWord(peek(), "order") && isWord(peek(1), "by")) {
    at += 2;
    for (;;) {
      const field = peek();
      if (field?.kind !== "word") throw syntax();
      at++;
      let desc = true; // no asc/desc: kintone sorts descending
      if (isWord(peek(), "asc") || isWord(peek(), "desc")) {
        desc = isWord(peek(), "desc");
        at++;
      }
      orderBy.push({ field: field.text, desc });
      if (peek()?.text !== ",") break;
      at++;
    }
  }
  let limit: number | undefined;
  let offset: number | undefined;
  if (isWord(peek(), "limit")) {
    at++;
    limit = integer();
  }
  if (isWord(peek(), "offset")) {
    at++;
    offset = integer();
  }
  if (at < tokens.length) throw syntax();
  if (limit !== undefined && (limit < 1 || limit > MAX_LIMIT)) {
    // UNCONFIRMED text: the get-records page says at most 500.
    throw invalidInput({ query: { messages: [`limit must be between 1 and ${MAX_LIMIT}.`] } });
  }
  if (offset !== undefined && offset > MAX_OFFSET) {
    throw invalidInput({ query: { messages: [`offset must be at most ${MAX_OFFSET}.`] } });
  }
  return { where, orderBy, limit, offset };
}

/** What a field's values compare as. */
type Kind = "number" | "text" | "date" | "datetime" | "choice";

const KINDS: Record<string, Kind> = {
  __ID__: "number",
  RECORD_NUMBER: "number",
  __REVISION__: "number",
  NUMBER: "number",
  CALC: "number",
  SINGLE_LINE_TEXT: "text",
  LINK: "text",
  DATE: "date",
  DATETIME: "datetime",
  CREATED_TIME: "datetime",
  UPDATED_TIME: "datetime",
  DROP_DOWN: "choice",
  RADIO_BUTTON: "choice",
  STATUS: "choice",
  CHECK_BOX: "choice",
  MULTI_SELECT: "choice",
};

/** Operators per kind, as the query page's table allows them (choice fields: in / not in only). */
const OPS: Record<Kind, readonly Op[]> = {
  number: ["=", "!=", ">", "<", ">=", "<=", "in", "not in"],
  text: ["=", "!=", "in", "not in"],
  date: ["=", "!=", ">", "<", ">=", "<="],
  datetime: ["=", "!=", ">", "<", ">=", "<="],
  choice: ["in", "not in"],
};

export interface QueryContext {
  /** Field code -> type, system fields ($id, $revision) included. */
  types: Record<string, string>;
  /** "YYYY-MM-DD" of today, for TODAY(). */
  today: string;
}

/** Refuses a query naming a field the app does not have, or an operator its type does not take. */
export function checkQuery(query: ParsedQuery, context: QueryContext): void {
  const fieldKind = (code: string): Kind => {
    const type = context.types[code];
    if (!type) throw queryError(`The specified field (${code}) was not found.`, `指定したフィールド（${code}）が見つかりません。`);
    const kind = KINDS[type];
    if (!kind) throw queryError(`The field (${code}) cannot be used in a query here (not emulated).`, `フィールド（${code}）はこの条件に使えません（エミュレーター未対応）。`);
    return kind;
  };
  const walk = (c: Condition | undefined): void => {
    if (!c) return;
    if (c.kind !== "compare") {
      walk(c.left);
      walk(c.right);
      return;
    }
    const kind = fieldKind(c.field);
    if (!OPS[kind].includes(c.op)) {
      throw queryError(`The operator "${c.op}" cannot be used for the field (${c.field}).`, `フィールド（${c.field}）に演算子「${c.op}」は使えません。`);
    }
  };
  walk(query.where);
  for (const order of query.orderBy) fieldKind(order.field);
}

function comparable(kind: Kind, raw: string, context: QueryContext): number | string | undefined {
  const text = raw === "TODAY()" ? context.today : raw;
  if (kind === "number") return text === "" ? undefined : Number(text.replace(/^[A-Za-z]+-/, ""));
  if (kind === "date") return text === "" ? undefined : text.slice(0, 10);
  if (kind === "datetime") {
    if (text === "") return undefined;
    // A date alone stands for its midnight (UTC here: the emulator has no user time zone).
    const instant = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
    return Number.isNaN(instant) ? undefined : instant;
  }
  return text;
}

function fieldValues(record: KintoneRecord, code: string): unknown {
  return record[code]?.value;
}

/** Whether a record meets the condition. */
export function matchesQuery(record: KintoneRecord, where: Condition | undefined, context: QueryContext): boolean {
  if (!where) return true;
  if (where.kind !== "compare") {
    const left = matchesQuery(record, where.left, context);
    return where.kind === "and" ? left && matchesQuery(record, where.right, context) : left || matchesQuery(record, where.right, context);
  }
  const kind = KINDS[context.types[where.field] as string] as Kind;
  const raw = fieldValues(record, where.field);
  if (kind === "choice") {
    const held = Array.isArray(raw) ? raw.map(String) : [String(raw ?? "")];
    const hit = held.some((v) => where.values.includes(v));
    return where.op === "in" ? hit : !hit;
  }
  const left = comparable(kind, String(raw ?? ""), context);
  const rights = where.values.map((v) => comparable(kind, v, context));
  const right = rights[0];
  switch (where.op) {
    case "=":
      return left === right;
    case "!=":
      return left !== right;
    case "in":
      return rights.includes(left);
    case "not in":
      return !rights.includes(left);
    default:
      if (left === undefined || right === undefined) return false;
      if (where.op === ">") return left > right;
      if (where.op === "<") return left < right;
      if (where.op === ">=") return left >= right;
      return left <= right;
  }
}

/** Sorts by `order by` (kintone's default: $id desc). */
export function sortRecords(records: KintoneRecord[], query: ParsedQuery, context: QueryContext): KintoneRecord[] {
  const orders = query.orderBy.length > 0 ? query.orderBy : [{ field: "$id", desc: true }];
  return [...records].sort((a, b) => {
    for (const { field, desc } of orders) {
      const kind = KINDS[context.types[field] as string] ?? "text";
      const x = comparable(kind, String(a[field]?.value ?? ""), context) ?? "";
      const y = comparable(kind, String(b[field]?.value ?? ""), context) ?? "";
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  });
}
