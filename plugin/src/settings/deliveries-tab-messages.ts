/** Texts of the settings page's tabs and its Deliveries tab, Japanese or English by the admin's language. */
export interface DeliveriesTabMessages {
  tabRules: string;
  tabDeliveries: string;
  intro: string;
  refresh: string;
  loading: string;
  updatedAt(time: string): string;
  monthHeading: string;
  relayCount(month: string, pushed: number, cap: number | null): string;
  capReached: string;
  lineCount(used: number | undefined, limit: number | undefined, limited: boolean): string;
  lineLimited: string;
  lineUnknown(reason: string): string;
  groupNote: string;
  recentHeading: string;
  recentEmpty: string;
  columns: { time: string; record: string; rule: string; state: string; recipients: string; acknowledged: string };
  recordLink(recordId: string): string;
  noRecipients: string;
  notificationState: Record<string, string>;
  lineSaid(detail: string): string;
  ack(name: string, button: string, at: string): string;
  deadHeading: string;
  deadIntro: string;
  deadEmpty: string;
  deadColumns: { kind: string; record: string; error: string; attempts: string; since: string; action: string };
  deadKind: Record<string, string>;
  retry: string;
  retryLabel(kind: string, record: string): string;
  retrying: string;
  retried: string;
  retryFailed(reason: string): string;
  noRecord: string;
}

const en: DeliveriesTabMessages = {
  tabRules: "Rules",
  tabDeliveries: "Deliveries",
  intro: "What the relay sent for this app, with the relay URL and app key above (typed, else saved).",
  refresh: "Refresh",
  loading: "Loading…",
  updatedAt: (time) => `Updated at ${time}.`,
  monthHeading: "This month",
  relayCount: (month, pushed, cap) =>
    cap === null ? `${month}: ${pushed} messages pushed by the relay (no monthly cap set).` : `${month}: ${pushed} of ${cap} messages pushed by the relay (monthly cap).`,
  capReached: "The monthly cap is reached: further notifications are not sent this month.",
  lineCount: (used, limit, limited) =>
    limited && limit !== undefined
      ? `LINE's own count: ${used ?? "?"} of ${limit} messages this month.`
      : `LINE's own count: ${used ?? "?"} messages this month (the plan sets no limit).`,
  lineLimited: "LINE answered that the channel's monthly limit is reached.",
  lineUnknown: (reason) => `LINE's own count could not be read${reason ? ` (${reason})` : ""}.`,
  groupNote: "LINE counts each member of a group; the relay counts a group once.",
  recentHeading: "Recent notifications",
  recentEmpty: "No notifications for this app yet.",
  columns: { time: "Time", record: "Record", rule: "Rule", state: "Result", recipients: "Recipients", acknowledged: "Acknowledged" },
  recordLink: (recordId) => `Record ${recordId}`,
  noRecipients: "none",
  notificationState: {
    pending: "in progress",
    dispatched: "handed to LINE",
    not_confirmed: "not sent: the status did not change",
    no_match: "not sent: no rule matched",
    record_missing: "not sent: the record is gone",
    failed: "failed",
    already_notified: "not sent: already notified",
  },
  lineSaid: (detail) => `LINE said: ${detail}`,
  ack: (name, button, at) => `${name}: “${button}” at ${at}`,
  deadHeading: "Gave up (dead letters)",
  deadIntro: "Work the relay kept failing at for too long. Retry runs it again exactly as before: a message is never sent twice.",
  deadEmpty: "Nothing was given up.",
  deadColumns: { kind: "What", record: "Record", error: "Last error", attempts: "Attempts", since: "Failing since", action: "Action" },
  deadKind: { notification: "notification", delivery: "message to LINE", "webhook-event": "LINE event" },
  retry: "Retry",
  retryLabel: (kind, record) => `Retry the ${kind} for ${record}`,
  retrying: "Retrying…",
  retried: "Queued again. Refresh to see the result.",
  retryFailed: (reason) => `Could not retry: ${reason}`,
  noRecord: "—",
};

const ja: DeliveriesTabMessages = {
  tabRules: "ルール",
  tabDeliveries: "配信状況",
  intro: "このアプリについて中継サーバーが送信した内容です。上の中継サーバーのURLとアプリキー（入力中のもの、なければ保存済みのもの）で読み込みます。",
  refresh: "最新の情報に更新",
  loading: "読み込み中…",
  updatedAt: (time) => `${time}に更新しました。`,
  monthHeading: "今月の送信数",
  relayCount: (month, pushed, cap) =>
    cap === null ? `${month}：中継サーバーからの送信 ${pushed}通（月の上限は設定されていません）` : `${month}：中継サーバーからの送信 ${pushed}通／月の上限 ${cap}通`,
  capReached: "月の上限に達しました。今月はこれ以上通知を送信しません。",
  lineCount: (used, limit, limited) =>
    limited && limit !== undefined ? `LINE側の集計：今月 ${used ?? "?"}通／上限 ${limit}通` : `LINE側の集計：今月 ${used ?? "?"}通（プランの上限なし）`,
  lineLimited: "LINEから、チャネルの月の上限に達したと応答がありました。",
  lineUnknown: (reason) => `LINE側の集計を取得できませんでした${reason ? `（${reason}）` : ""}。`,
  groupNote: "LINEはグループのメンバーごとに数えます。中継サーバーはグループを1通と数えます。",
  recentHeading: "最近の通知",
  recentEmpty: "このアプリの通知はまだありません。",
  columns: { time: "日時", record: "レコード", rule: "ルール", state: "結果", recipients: "送信先", acknowledged: "確認" },
  recordLink: (recordId) => `レコード ${recordId}`,
  noRecipients: "なし",
  notificationState: {
    pending: "処理中",
    dispatched: "LINEへ送信済み",
    not_confirmed: "未送信（ステータスが変わりませんでした）",
    no_match: "未送信（条件に合うルールがありません）",
    record_missing: "未送信（レコードが見つかりません）",
    failed: "失敗",
    already_notified: "未送信（通知済み）",
  },
  lineSaid: (detail) => `LINEの応答：${detail}`,
  ack: (name, button, at) => `${name}さん：「${button}」${at}`,
  deadHeading: "送信をあきらめた処理",
  deadIntro: "中継サーバーが長時間失敗し続け、再試行をやめた処理です。「再試行」を押すと以前とまったく同じ内容でもう一度実行します。同じメッセージが二重に届くことはありません。",
  deadEmpty: "あきらめた処理はありません。",
  deadColumns: { kind: "種類", record: "レコード", error: "最後のエラー", attempts: "試行回数", since: "失敗し始めた日時", action: "操作" },
  deadKind: { notification: "通知", delivery: "LINEへの送信", "webhook-event": "LINEからのイベント" },
  retry: "再試行",
  retryLabel: (kind, record) => `${record}の${kind}を再試行`,
  retrying: "再試行しています…",
  retried: "もう一度実行するよう登録しました。結果は「最新の情報に更新」で確認できます。",
  retryFailed: (reason) => `再試行できませんでした：${reason}`,
  noRecord: "—",
};

export function deliveriesTabMessages(language: string): DeliveriesTabMessages {
  return language === "ja" ? ja : en;
}
