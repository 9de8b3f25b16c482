/**
 * What is wrong with a rule, in Japanese and English: one catalogue for the settings page (which
 * shows it at the control) and the relay (which refuses the rule set with the same words).
 */
import type { Language } from "./relay-texts.js";

export interface RuleProblemTexts {
  lineIdFormat(id: string): string;
  noRecipients: string;
  unknownField(code: string): string;
  unknownPlaceholder(name: string): string;
  notANumber(value: string, label: string): string;
  notADate(value: string, label: string): string;
  notADateTime(value: string, label: string): string;
  notATime(value: string, label: string): string;
  notAnOption(value: string, label: string): string;
  notARecipientField(label: string): string;
  notADateTimeField(label: string): string;
  notATextField(label: string): string;
  notWritable(label: string): string;
  actionWithWriteBack: string;
  askReasonWithoutAction: string;
  processManagementOff: string;
}

const en: RuleProblemTexts = {
  lineIdFormat: (id) => `"${id}" is not a LINE ID: a user, group or room ID is U, C or R followed by 32 characters 0-9 a-f.`,
  noRecipients: "Nobody would get this message: choose a field holding LINE IDs, enter a fixed LINE ID, or send to the record's assignees or to kintone users.",
  unknownField: (code) => `"${code}" is not a field of this app (deleted, or its code changed): remove it or pick another field.`,
  unknownPlaceholder: (name) => `{{${name}}} names no field of this app: it would be sent as an empty text. Fix the field code.`,
  notANumber: (value, label) => `"${value}" is not a number, and "${label}" is a number field.`,
  notADate: (value, label) => `"${value}" is not a date (YYYY-MM-DD), and "${label}" is a date field.`,
  notADateTime: (value, label) => `"${value}" is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM), and "${label}" is a date-time field.`,
  notATime: (value, label) => `"${value}" is not a time (HH:MM), and "${label}" is a time field.`,
  notAnOption: (value, label) => `"${value}" is not an option of "${label}".`,
  notARecipientField: (label) => `"${label}" cannot hold LINE IDs: pick a text field (single-line or multi-line).`,
  notADateTimeField: (label) => `"${label}" is not a date-time field: the time of the tap needs one.`,
  notATextField: (label) => `"${label}" is not a single-line text field: the LINE name needs one.`,
  notWritable: (label) => `"${label}" cannot take a text value: pick a text, radio button or drop-down field.`,
  actionWithWriteBack: "A button either takes a process step (action) or writes back to the record (writeBack), not both: make two buttons.",
  askReasonWithoutAction: "Asking for a reason needs an action: the reason is posted as a comment just before the step is taken.",
  processManagementOff: "Process management is off in this app, so records have no assignees and no actions: turn it on in the app's settings, or remove this.",
};

const ja: RuleProblemTexts = {
  lineIdFormat: (id) => `「${id}」はLINEのIDではありません。ユーザー・グループ・トークルームのIDは、U・C・Rのいずれかに続けて0～9とa～fの32文字です。`,
  noRecipients: "このメッセージを受け取る人がいません。LINE IDが入るフィールドを選ぶか、固定のLINE IDを入力するか、レコードの作業者やkintoneユーザーを宛先にしてください。",
  unknownField: (code) => `「${code}」はこのアプリのフィールドではありません（削除されたか、フィールドコードが変わりました）。削除するか、別のフィールドを選んでください。`,
  unknownPlaceholder: (name) => `{{${name}}} に当たるフィールドがこのアプリにありません。このままでは空の文字列で送られます。フィールドコードを直してください。`,
  notANumber: (value, label) => `「${value}」は数値ではありません。「${label}」は数値のフィールドです。`,
  notADate: (value, label) => `「${value}」は日付（YYYY-MM-DD）ではありません。「${label}」は日付のフィールドです。`,
  notADateTime: (value, label) => `「${value}」は日付（YYYY-MM-DD）でも日時（YYYY-MM-DDTHH:MM）でもありません。「${label}」は日時のフィールドです。`,
  notATime: (value, label) => `「${value}」は時刻（HH:MM）ではありません。「${label}」は時刻のフィールドです。`,
  notAnOption: (value, label) => `「${value}」は「${label}」の選択肢にありません。`,
  notARecipientField: (label) => `「${label}」にはLINE IDを入れられません。文字列（1行）か文字列（複数行）のフィールドを選んでください。`,
  notADateTimeField: (label) => `「${label}」は日時のフィールドではありません。タップした日時には日時のフィールドが必要です。`,
  notATextField: (label) => `「${label}」は文字列（1行）のフィールドではありません。LINEの表示名には文字列（1行）のフィールドが必要です。`,
  notWritable: (label) => `「${label}」には文字列を書き込めません。文字列・ラジオボタン・ドロップダウンのフィールドを選んでください。`,
  actionWithWriteBack: "1つのボタンでは、プロセスのアクション（action）とレコードへの書き込み（writeBack）を同時に指定できません。ボタンを分けてください。",
  askReasonWithoutAction: "理由の入力（askReason）にはアクション（action）の指定が必要です。理由はアクションの実行直前にコメントとして投稿されます。",
  processManagementOff: "このアプリではプロセス管理が無効なため、作業者もアクションもありません。アプリの設定でプロセス管理を有効にするか、この指定を削除してください。",
};

export const RULE_PROBLEM_CATALOGUE: Record<Language, RuleProblemTexts> = { ja, en };

/** Kinds of JSON value, as a refusal names them ("must be a number, not a string"). */
export type ValueKind = "string" | "number" | "int" | "boolean" | "array" | "object" | "null" | "true" | "false" | "other";
/** What a list holds, for "must have at most 3 buttons". */
export type ListNoun = "rules" | "buttons" | "conditions" | "fields" | "IDs" | "users" | "actions" | "statuses" | "items";

/**
 * Refusals of the rule set's shape (parseRuleSet: the schema's type, length, format and enum
 * checks), in Japanese and English, so the settings page and the relay say them in the admin's
 * language like every other rule problem.
 */
export interface SchemaProblemTexts {
  emptyInput: string;
  notJson(where: string): string;
  required: string;
  mustBe(expected: ValueKind | string, actual: ValueKind): string;
  tooLong(max: string, has: number): string;
  tooMany(max: string, noun: ListNoun): string;
  tooBig(max: string): string;
  empty: string;
  tooShort(min: string): string;
  tooFew(min: string, noun: ListNoun): string;
  tooSmall(min: string): string;
  pattern(pattern: string, got: string): string;
  oneOf(allowed: string[], got: string): string;
  unknownKey(key: string): string;
  fieldCode(inner: string): string;
  unionValue: string;
  unionWhen: string;
  noForm: string;
  ruleIdFormat(got: string): string;
  timeFormat(got: string): string;
  duplicateRuleId(id: string): string;
  duplicateButtonId(id: string): string;
  scheduleNoStatus: string;
  opNeedsValue(op: string): string;
}

const KIND_EN: Record<string, string> = {
  string: "a string", number: "a number", int: "a whole number", boolean: "true or false", array: "a list",
  object: "an object", record: "an object", null: "null", true: "true", false: "false", other: "something else",
};
const KIND_JA: Record<string, string> = {
  string: "文字列", number: "数値", int: "整数", boolean: "true か false", array: "リスト", object: "オブジェクト",
  record: "オブジェクト", null: "null", true: "true", false: "false", other: "別の値",
};
const NOUN_JA: Record<ListNoun, string> = {
  rules: "ルール", buttons: "ボタン", conditions: "条件", fields: "フィールド", IDs: "ID", users: "ユーザー", actions: "アクション", statuses: "ステータス", items: "項目",
};
const got = (text: string, ja: boolean) => (text === "" ? "" : ja ? `（入力値：${text}）` : ` (got ${text})`);

const schemaEn: SchemaProblemTexts = {
  emptyInput: "is empty: expected the JSON text of a rule set",
  notJson: (where) => `is not valid JSON: ${where}`,
  required: "is required",
  mustBe: (expected, actual) => `must be ${KIND_EN[expected] ?? expected}, not ${KIND_EN[actual] ?? actual}`,
  tooLong: (max, has) => `must be at most ${max} characters (it has ${has})`,
  tooMany: (max, noun) => `must have at most ${max} ${noun}`,
  tooBig: (max) => `must be at most ${max}`,
  empty: "must not be empty",
  tooShort: (min) => `must be at least ${min} characters`,
  tooFew: (min, noun) => `must have at least ${min} ${noun}`,
  tooSmall: (min) => `must be at least ${min}`,
  pattern: (pattern, value) => `must match ${pattern}${got(value, false)}`,
  oneOf: (allowed, value) => (allowed.length === 1 ? `must be ${allowed[0]}` : `must be one of ${allowed.join(", ")}`) + got(value, false),
  unknownKey: (key) => `is not a known property ("${key}" is not part of rule set v1)`,
  fieldCode: (inner) => `field code ${inner}`,
  unionValue: "must be a string, a number or a list of strings",
  unionWhen: 'must be an object with exactly one of "all" or "any", each a list of conditions',
  noForm: "does not match any of the allowed forms",
  ruleIdFormat: (value) => `must be 1-32 of A-Z a-z 0-9 _ -${got(value, false)}`,
  timeFormat: (value) => `must be HH:MM (00:00 to 23:59)${got(value, false)}`,
  duplicateRuleId: (id) => `duplicate rule id "${id}"`,
  duplicateButtonId: (id) => `duplicate button id "${id}"`,
  scheduleNoStatus: "a schedule trigger takes no actions, from or to (a reminder is not a status change)",
  opNeedsValue: (op) => `op "${op}" needs a value`,
};

const schemaJa: SchemaProblemTexts = {
  emptyInput: "空です。ルールセットのJSONテキストが必要です。",
  notJson: (where) => `正しいJSONではありません（${where}）。`,
  required: "入力してください。",
  mustBe: (expected, actual) => `${KIND_JA[expected] ?? expected}にしてください（${KIND_JA[actual] ?? actual}になっています）。`,
  tooLong: (max, has) => `${max}文字以内にしてください（今は${has}文字です）。`,
  tooMany: (max, noun) => `${NOUN_JA[noun]}は${max}個までです。`,
  tooBig: (max) => `${max}以下にしてください。`,
  empty: "入力してください。",
  tooShort: (min) => `${min}文字以上にしてください。`,
  tooFew: (min, noun) => `${NOUN_JA[noun]}が${min}個以上必要です。`,
  tooSmall: (min) => `${min}以上にしてください。`,
  pattern: (pattern, value) => `「${pattern}」の形式にしてください${got(value, true)}。`,
  oneOf: (allowed, value) => `${allowed.map((a) => `「${a}」`).join("・")}${allowed.length === 1 ? "" : "のいずれか"}にしてください${got(value, true)}。`,
  unknownKey: (key) => `使えない項目です（「${key}」はルールセット v1 にありません）。`,
  fieldCode: (inner) => `（フィールドコード）${inner}`,
  unionValue: "文字列・数値・文字列のリストのいずれかにしてください。",
  unionWhen: "「all」か「any」のどちらか一方だけを持ち、それぞれ条件のリストにしてください。",
  noForm: "使える形のどれにも当てはまりません。",
  ruleIdFormat: (value) => `半角英数字・「_」・「-」で1～32文字にしてください${got(value, true)}。`,
  timeFormat: (value) => `「HH:MM」（00:00～23:59）にしてください${got(value, true)}。`,
  duplicateRuleId: (id) => `ルールID「${id}」が重複しています。`,
  duplicateButtonId: (id) => `ボタンID「${id}」が重複しています。`,
  scheduleNoStatus: "リマインダー（日付）のルールには、アクション・変更前・変更後のステータスを指定できません。",
  opNeedsValue: (op) => `演算子「${op}」には値が必要です。`,
};

export const SCHEMA_PROBLEM_CATALOGUE: Record<Language, SchemaProblemTexts> = { ja: schemaJa, en: schemaEn };
