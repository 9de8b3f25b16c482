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
}

const en: RuleProblemTexts = {
  lineIdFormat: (id) => `"${id}" is not a LINE ID: a user, group or room ID is U, C or R followed by 32 characters 0-9 a-f.`,
  noRecipients: "Nobody would get this message: choose a field holding LINE IDs, or enter a fixed LINE ID.",
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
};

const ja: RuleProblemTexts = {
  lineIdFormat: (id) => `「${id}」はLINEのIDではありません。ユーザー・グループ・トークルームのIDは、U・C・Rのいずれかに続けて0～9とa～fの32文字です。`,
  noRecipients: "このメッセージを受け取る人がいません。LINE IDが入るフィールドを選ぶか、固定のLINE IDを入力してください。",
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
};

export const RULE_PROBLEM_CATALOGUE: Record<Language, RuleProblemTexts> = { ja, en };
