/**
 * Every text the relay writes to LINE users, in Japanese and English: the Flex message's own
 * labels and the replies to taps, link codes and new friends. The language is the rule set's
 * `language` (the settings page fills in the admin's kintone language); where no rule set is
 * known (a new friend, a wrong code) the relay's RELAY_LANGUAGE. A rule set may override the
 * texts tied to its messages (`texts`).
 */

export const LANGUAGES = ["ja", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Texts a rule set may override (`texts` in the rule set): those of its own messages. */
export const OVERRIDABLE_TEXT_KEYS = ["openInKintone", "done", "already", "notYours", "unknown", "linked"] as const;
export type OverridableTextKey = (typeof OVERRIDABLE_TEXT_KEYS)[number];
export type TextOverrides = Partial<Record<OverridableTextKey, string>>;

export interface RelayTexts {
  /** The URI button of a message (at most 40 characters: LINE's action label limit). */
  openInKintone: string;
  /** altText when the title renders empty. */
  altTextFallback: string;
  /** A tap was recorded (a button without its own reply). */
  done: string;
  /** A second tap on the same button. */
  already: string;
  /** A tap from someone the message was not sent to. */
  notYours: string;
  /** A tap on a button the relay no longer knows. */
  unknown: string;
  /** Reply to a user who adds the LINE account (RELAY_WELCOME_TEXT replaces it). */
  welcome: string;
  linked: string;
  wrongCode: string;
  tooManyCodes: string;
  codeRecordMissing: string;
  codeWriteFailed: string;
  /**
   * Approvals: a button with an `action` takes a process step as the kintone user who tapped it.
   * `{{action}}` stands for the action's name, `{{reason}}` for kintone's refusal.
   */
  stepDone: string;
  /** A second tap on a button whose step this user took already. */
  stepRepeated: string;
  /** The status or revision moved on before the step: someone else acted (GAIA_IL03, GAIA_CO02). */
  stepAlreadyDone: string;
  /** kintone says the user is not (or no longer) an assignee (GAIA_NT01). */
  stepNotYours: string;
  /** The tapper has no kintone account linked. */
  connectFirst: string;
  /** kintone refused the linked user's token (revoked, expired): the link must be made again. */
  connectAgain: string;
  askReason: string;
  /** The user sent "cancel" instead of a reason. */
  reasonCancelled: string;
  /** Above the quick replies naming the next assignee's candidates. */
  chooseAssignee: string;
  /** kintone needs a next assignee the relay cannot offer (none of the candidates is a user). */
  chooseAssigneeInKintone: string;
  /** kintone refused the step for another reason. */
  stepRefused: string;
  /**
   * Connecting a kintone user to this LINE account (`connect` / `連携`): the replies, then the
   * pages the phone's browser shows on the way through kintone's authorization. `{{url}}` is the
   * one-time link, `{{name}}` the kintone user's name, `{{error}}` what kintone said.
   */
  connectLink: string;
  /** The label of the button that opens the one-time link (LINE: at most 20 characters). */
  connectButton: string;
  /** `connect` from a group or room: linking proves one person, in a one-to-one chat only. */
  connectOneToOneOnly: string;
  /** LINE would not issue a link token for the user (blocked, or LINE refused). */
  connectUnavailable: string;
  connectedAs: string;
  /** The account-link event binds nothing (failed, used, expired, from another LINE user). */
  connectNotCompleted: string;
  disconnected: string;
  /** `disconnect` from a user who has no link. */
  notConnected: string;
  connectPageTitle: string;
  /** The `t` link is unknown, used or older than 10 minutes. */
  connectPageStartExpired: string;
  /** The OAuth state is unknown, used, expired, or this browser is not the one that started. */
  connectPageStateInvalid: string;
  /** kintone's authorization answered an error (the user refused, or is not allowed to use the client). */
  connectPageDenied: string;
  /** kintone could not be reached, or refused the code: nothing was stored. */
  connectPageKintoneFailed: string;
  /** The record the relay adds to learn who the user is was refused (no permission in the link app). */
  connectPageLinkAppRefused: string;
}

const ja: RelayTexts = {
  openInKintone: "kintoneで開く",
  altTextFallback: "kintoneからのお知らせ",
  done: "ありがとうございます。回答を記録しました。",
  already: "このメッセージにはすでに回答いただいています（記録済みです）。",
  notYours: "申し訳ありません。このボタンはお客様宛てのものではありません。",
  unknown: "申し訳ありません。このボタンは現在ご利用いただけません。",
  welcome: "友だち追加ありがとうございます。通知はこちらに届きます。連携コードをお持ちの方は、このトークに送信してください。",
  linked: "LINEアカウントの連携が完了しました。これからの通知はここに届きます。",
  wrongCode: "このコードは無効か、有効期限が切れています。担当者に新しいコードを発行してもらってください。",
  tooManyCodes: "間違ったコードが続いたため、受け付けを一時停止しています。15分ほどしてからもう一度お試しください。",
  codeRecordMissing: "このコードを発行したレコードはすでに存在しないため、連携できませんでした。コードを渡した担当者にお問い合わせください。",
  codeWriteFailed: "ただいま連携を記録できませんでした。コードはまだ使えます。少し時間をおいて、同じコードをもう一度送ってください。",
  stepDone: "「{{action}}」を実行しました。",
  stepRepeated: "この操作はすでに受け付けています。",
  stepAlreadyDone: "このレコードはすでに他の方が処理したため、何も変更しませんでした。",
  stepNotYours: "この操作は、もうあなたの担当ではありません。",
  connectFirst: "この操作には、kintoneのアカウントとの連携が必要です。このトークに「connect」と送信して連携してから、もう一度ボタンを押してください。",
  connectAgain: "kintoneとの連携が切れています。このトークに「connect」と送信してもう一度連携してから、ボタンを押し直してください。",
  askReason: "「{{action}}」の理由を、10分以内にこのトークに送信してください。取りやめる場合は「キャンセル」と送信してください。",
  reasonCancelled: "取りやめました。レコードは変更していません。",
  chooseAssignee: "次の作業者を選んでください。",
  chooseAssigneeInKintone: "次の作業者をここでは選べません。kintoneで操作してください。",
  stepRefused: "kintoneがこの操作を受け付けませんでした（{{reason}}）。kintoneでレコードを確認してください。",
  connectLink: "kintoneのアカウントと連携します。10分以内に下のボタンから開いてください（1回限り有効）。",
  connectButton: "kintoneと連携する",
  connectOneToOneOnly: "kintoneとの連携は、このアカウントとの1対1のトークでのみ行えます。1対1のトークで「connect」と送信してください。",
  connectUnavailable: "ただいま連携を始められませんでした。少し時間をおいて、もう一度「connect」と送信してください。",
  connectedAs: "kintoneの「{{name}}」さんとして連携しました。",
  connectNotCompleted: "連携は完了しませんでした。もう一度「connect」と送信して、はじめからやり直してください。",
  disconnected: "kintoneとの連携を解除しました。",
  notConnected: "このLINEアカウントはkintoneと連携していません。",
  connectPageTitle: "kintoneとLINEの連携",
  connectPageStartExpired: "このリンクは有効期限が切れたか、すでに使われています。LINEでもう一度「connect」と送信して、新しいリンクを開いてください。",
  connectPageStateInvalid: "この画面は有効期限が切れたか、連携を始めたブラウザーとは別のブラウザーで開かれました。LINEでもう一度「connect」と送信し、届いたリンクを同じブラウザーで開いてください。",
  connectPageDenied: "kintoneが連携を許可しませんでした（{{error}}）。連携を許可されていない場合は、kintoneの管理者にお問い合わせください。",
  connectPageKintoneFailed: "kintoneとの通信がうまくいかなかったため、連携できませんでした。少し時間をおいて、LINEでもう一度「connect」と送信してください。",
  connectPageLinkAppRefused: "kintoneの連携用アプリにレコードを追加できなかったため、ご本人の確認ができませんでした。kintoneの管理者に、連携用アプリへのレコード追加の権限を確認してもらってください。",
};

const en: RelayTexts = {
  openInKintone: "Open in kintone",
  altTextFallback: "kintone notification",
  done: "Thanks! Your response was recorded.",
  already: "You already responded to this message; it was recorded earlier.",
  notYours: "Sorry, this button is not for you.",
  unknown: "Sorry, this button is no longer valid.",
  welcome: "Thanks for adding us! You will get notifications here. Send the link code you were given to connect your account.",
  linked: "Your LINE account is now connected. You will get notifications here.",
  wrongCode: "That code is not valid or has expired. Please ask for a new code.",
  tooManyCodes: "Too many wrong codes. Please wait 15 minutes and try again.",
  codeRecordMissing: "The record this code was made for no longer exists, so nothing was connected. Please contact the person who gave you the code.",
  codeWriteFailed: "Your account could not be connected just now. The code still works: please try again in a little while with the same code.",
  stepDone: "Done: “{{action}}” was taken.",
  stepRepeated: "You already took this step.",
  stepAlreadyDone: "Someone else already took this step, so nothing was changed.",
  stepNotYours: "This step is no longer yours to take.",
  connectFirst: "To do this, connect your kintone account first: send “connect” in this chat, then tap the button again.",
  connectAgain: "Your kintone connection has expired. Send “connect” in this chat to connect again, then tap the button again.",
  askReason: "Please send the reason for “{{action}}” in this chat within 10 minutes. Send “cancel” to stop.",
  reasonCancelled: "Stopped. The record was not changed.",
  chooseAssignee: "Who takes the next step? Choose below.",
  chooseAssigneeInKintone: "The next assignee cannot be chosen here. Please take this step in kintone.",
  stepRefused: "kintone did not accept this step ({{reason}}). Please check the record in kintone.",
  connectLink: "To connect your kintone account, open the button below within 10 minutes (it works once).",
  connectButton: "Connect to kintone",
  connectOneToOneOnly: "Connecting to kintone works only in a one-to-one chat with this account. Please send “connect” there.",
  connectUnavailable: "Connecting could not start just now. Please send “connect” again in a little while.",
  connectedAs: "Connected: you are {{name}} in kintone.",
  connectNotCompleted: "The connection was not completed. Please send “connect” again to start over.",
  disconnected: "Your kintone connection was removed.",
  notConnected: "This LINE account is not connected to kintone.",
  connectPageTitle: "Connect kintone and LINE",
  connectPageStartExpired: "This link has expired or was already used. Send “connect” in LINE again and open the new link.",
  connectPageStateInvalid: "This page has expired, or was opened in another browser than the one that started. Send “connect” in LINE again and open the new link in one browser.",
  connectPageDenied: "kintone did not allow the connection ({{error}}). If you are not allowed to use it, please ask your kintone administrator.",
  connectPageKintoneFailed: "kintone could not be reached or did not accept the connection, so nothing was connected. Please send “connect” in LINE again in a little while.",
  connectPageLinkAppRefused: "You could not be identified: the relay could not add a record to the kintone connection app. Please ask your kintone administrator to let you add records to it.",
};

export const RELAY_TEXT_CATALOGUE: Record<Language, RelayTexts> = { ja, en };

/** `value` if it is a language the relay speaks, else undefined. */
export function asLanguage(value: unknown): Language | undefined {
  return value === "ja" || value === "en" ? value : undefined;
}

/**
 * LINE profile languages are BCP 47 tags ("ja", "en", "en-US", "zh-TW"...): Japanese for "ja*",
 * English for any other tag, undefined when there is none.
 */
export function languageOfProfile(tag: string | undefined): Language | undefined {
  if (!tag) return undefined;
  return tag.toLowerCase().startsWith("ja") ? "ja" : "en";
}

/** The texts for `language`, with a rule set's overrides (empty overrides are ignored). */
export function relayTexts(language: Language, overrides?: TextOverrides): RelayTexts {
  const base = RELAY_TEXT_CATALOGUE[language];
  if (!overrides) return base;
  const merged: RelayTexts = { ...base };
  for (const key of OVERRIDABLE_TEXT_KEYS) {
    const text = overrides[key];
    if (typeof text === "string" && text.trim() !== "") merged[key] = text;
  }
  return merged;
}
