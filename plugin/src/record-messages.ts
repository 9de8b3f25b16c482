/** Texts of the record pages (desktop and mobile), Japanese or English by the user's language. */
export interface RecordMessages {
  noticeFailed(reason: string): string;
  blocked(reason: string): string;
  panelTitle: string;
  panelEmpty: string;
  panelError(reason: string): string;
  refresh: string;
  acknowledged: string;
  recipientState: Record<string, string>;
  /** A delivery's state as the relay names it ("pending", "sent", "failed"). */
  deliveryState: Record<string, string>;
  /** Why the relay could not take the notification, for noticeFailed / blocked / panelError. */
  reasonTimeout: (seconds: number | undefined) => string;
  reasonUnreachable(detail: string): string;
  reasonUnauthorized: string;
  reasonWrongApp: string;
  reasonBusy: string;
  reasonRelayDown(status: number): string;
  /** `ja`: the relay's Japanese words for each refused path, when it gave them. */
  reasonRefused(code: string, message: string, ja?: string): string;
  reasonOther(detail: string): string;
  linkCodeButton: string;
  linkCodeTitle: string;
  linkCodeField: string;
  linkCodeCreate: string;
  linkCodeInstructions(code: string, expiresAt: string): string;
  linkCodeError(reason: string): string;
  close: string;
}

const en: RecordMessages = {
  noticeFailed: (reason) => `LINE notification could not be sent: ${reason}. The action was completed.`,
  blocked: (reason) => `The LINE notification for this action failed (${reason}), so the action was not run. Try again, or ask your kintone administrator.`,
  panelTitle: "LINE deliveries",
  panelEmpty: "No LINE messages for this record yet.",
  panelError: (reason) => `LINE deliveries could not be loaded: ${reason}`,
  refresh: "Refresh",
  acknowledged: "acknowledged",
  recipientState: { sent: "sent", failed: "failed", blocked: "blocked", pending: "pending", invalid: "invalid ID", capped: "monthly limit reached", not_linked: "not connected to LINE" },
  deliveryState: { pending: "sending", sent: "sent", failed: "failed", capped: "not sent: monthly limit reached" },
  reasonTimeout: (seconds) => (seconds ? `the relay did not answer within ${seconds} s` : "the relay did not answer in time"),
  reasonUnreachable: (detail) => `the relay could not be reached${detail ? ` (${detail})` : ""}`,
  reasonUnauthorized: "the relay refused the plugin's key; ask your kintone administrator to check the plugin settings",
  reasonWrongApp: "the plugin's key belongs to another app; ask your kintone administrator to check the plugin settings",
  reasonBusy: "the relay is busy; try again in a minute",
  reasonRelayDown: (status) => `the relay is not working (HTTP ${status})`,
  reasonRefused: (code, message) => `the relay refused the request: ${message} [${code}]`,
  reasonOther: (detail) => detail,
  linkCodeButton: "LINE link code",
  linkCodeTitle: "Link a LINE account to this record",
  linkCodeField: "Field",
  linkCodeCreate: "Create code",
  linkCodeInstructions: (code, expiresAt) =>
    `Ask the customer to add our LINE official account as a friend and send this code as a message: ${code}. The code works once, until ${expiresAt}.`,
  linkCodeError: (reason) => `No code could be created: ${reason}`,
  close: "Close",
};

const ja: RecordMessages = {
  noticeFailed: (reason) => `LINE通知を送信できませんでした（${reason}）。アクションは実行されました。`,
  blocked: (reason) => `このアクションのLINE通知に失敗したため（${reason}）、アクションを実行しませんでした。もう一度試すか、kintoneの管理者に連絡してください。`,
  panelTitle: "LINE送信履歴",
  panelEmpty: "このレコードのLINEメッセージはまだありません。",
  panelError: (reason) => `LINE送信履歴を読み込めませんでした（${reason}）。`,
  refresh: "更新",
  acknowledged: "確認済み",
  recipientState: { sent: "送信済み", failed: "失敗", blocked: "ブロックされています", pending: "送信待ち", invalid: "無効なID", capped: "月の上限に達したため未送信", not_linked: "LINE未連携のため未送信" },
  deliveryState: { pending: "送信中", sent: "送信済み", failed: "失敗", capped: "月の上限に達したため未送信" },
  reasonTimeout: (seconds) => (seconds ? `中継サーバーから${seconds}秒以内に応答がありませんでした` : "中継サーバーから時間内に応答がありませんでした"),
  reasonUnreachable: (detail) => `中継サーバーに接続できませんでした${detail ? `：${detail}` : ""}`,
  reasonUnauthorized: "中継サーバーがプラグインのキーを受け付けませんでした。kintoneの管理者にプラグインの設定を確認してもらってください",
  reasonWrongApp: "プラグインのキーが別のアプリのものです。kintoneの管理者にプラグインの設定を確認してもらってください",
  reasonBusy: "中継サーバーが混み合っています。1分ほどしてからもう一度お試しください",
  reasonRelayDown: (status) => `中継サーバーが動いていません（HTTP ${status}）`,
  reasonRefused: (code, message, ja) => `中継サーバーが要求を受け付けませんでした：${ja ?? message}［${code}］`,
  reasonOther: (detail) => detail,
  linkCodeButton: "LINE連携コード",
  linkCodeTitle: "このレコードにLINEアカウントを連携",
  linkCodeField: "フィールド",
  linkCodeCreate: "コードを発行",
  linkCodeInstructions: (code, expiresAt) =>
    `お客様に、LINE公式アカウントを友だち追加し、次のコードをメッセージで送ってもらってください：${code}（1回限り、${expiresAt}まで有効）。`,
  linkCodeError: (reason) => `コードを発行できませんでした（${reason}）。`,
  close: "閉じる",
};

export function recordMessages(language: string): RecordMessages {
  return language === "ja" ? ja : en;
}
