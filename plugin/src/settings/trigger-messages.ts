/**
 * Texts of the trigger editor (trigger-editor.ts) and the kintone webhook note (webhook-note.ts),
 * Japanese or English by the admin's kintone language.
 */

const enTriggerMessages = {
  triggerKind: "Sends",
  kindStatus: "On a process action",
  kindSchedule: "On a date (reminder)",
  scheduleField: "Date field",
  scheduleNoDateField: "This app has no date or date-time field: a reminder needs one.",
  scheduleDays: "Days before (-) or after (+)",
  scheduleAt: "Time (HH:MM)",
  /** "1 day before Due date", "on Due date", "3 days after Due date". */
  scheduleWhen: (offsetDays: number, fieldLabel: string, at: string) => {
    const field = fieldLabel || "the date";
    const day =
      offsetDays === 0
        ? `on ${field}`
        : `${Math.abs(offsetDays)} ${Math.abs(offsetDays) === 1 ? "day" : "days"} ${offsetDays < 0 ? "before" : "after"} ${field}`;
    return `Each record gets its reminder ${day}, at ${at || "--:--"} (the rule set's time zone).`;
  },
  scheduleRelay:
    "Reminders are sent by the relay from the rules it keeps: they start once you save, and the relay must be reachable.",
  browserOnly: (why: string) => `Record page only: ${why}. kintone's webhook cannot serve this rule, so changes made through the REST API, by other plugins or by integrations do not notify.`,
  browserOnlyActions: "it names actions (kintone's webhook does not say which action ran)",
  browserOnlyFrom: "it names a status before (the relay knows it only when it saw the record before)",
  webhookServed: "Also served by kintone's webhook (changes made anywhere).",
  // The webhook note (webhook-note.ts)
  webhookTitle: "Status changes made outside the browser (kintone webhook)",
  webhookIntro:
    "The plugin sees only actions run on a record page. To notify status changes made through the REST API, by other plugins or by integrations too, add a webhook to this app in kintone that points at the relay.",
  webhookToken: "Webhook token (from whoever runs the relay)",
  webhookTokenHint:
    "The relay's KINTONE_WEBHOOK_TOKEN. Only used to build the URL below: it is not saved anywhere. Leave it empty to copy the URL with a placeholder.",
  webhookUrl: "Webhook URL to paste in kintone",
  webhookUrlNoRelay: "Enter the relay URL above first.",
  webhookCopy: "Copy",
  webhookCopied: "Copied.",
  webhookCopyFailed: "Select the URL and copy it yourself.",
  webhookSteps: [
    "App settings → Settings → Webhooks → + (add).",
    "Webhook URL: the URL above.",
    "Notification triggers: tick \"Status updated\", and \"Record edited\" so that the relay knows a record's status before it changes.",
    "Turn the webhook on, save, and press \"Update App\".",
  ],
  webhookLimits:
    "kintone sends no webhook for Excel/CSV imports, bulk operations and the REST APIs that change several records at once, nor beyond 60 a minute: those changes notify only when run on a record page.",
  webhookRulesNone: "No rule yet.",
  webhookRulesServed: (names: string) => `Served by the webhook: ${names}.`,
  webhookRulesBrowserOnly: (names: string) => `Record page only (they name actions or a status before): ${names}.`,
  webhookRulesReminders: (names: string) => `Reminders, sent by the relay on their dates: ${names}.`,
};

export type TriggerMessages = typeof enTriggerMessages;

const jaTriggerMessages: TriggerMessages = {
  triggerKind: "送信のきっかけ",
  kindStatus: "プロセス管理の操作",
  kindSchedule: "日付（リマインダー）",
  scheduleField: "日付のフィールド",
  scheduleNoDateField: "このアプリには日付・日時のフィールドがありません。リマインダーには日付のフィールドが必要です。",
  scheduleDays: "何日前（-）／何日後（+）",
  scheduleAt: "送信時刻（HH:MM）",
  scheduleWhen: (offsetDays, fieldLabel, at) => {
    const field = fieldLabel || "日付";
    const day = offsetDays === 0 ? `「${field}」の当日` : `「${field}」の${Math.abs(offsetDays)}日${offsetDays < 0 ? "前" : "後"}`;
    return `各レコードの${day}、${at || "--:--"}（ルールのタイムゾーン）に送ります。`;
  },
  scheduleRelay: "リマインダーは、中継サーバーが保存されたルールをもとに送ります。保存した後から有効になり、中継サーバーに接続できる必要があります。",
  browserOnly: (why) => `レコード画面での操作のみ：${why}。kintoneのWebhookではこのルールを扱えないため、REST API・他のプラグイン・外部連携によるステータスの変更は通知されません。`,
  browserOnlyActions: "操作名を条件にしています（kintoneのWebhookは、どの操作が行われたかを送りません）",
  browserOnlyFrom: "変更前のステータスを条件にしています（中継サーバーが以前にそのレコードを見ていないと判断できません）",
  webhookServed: "kintoneのWebhookでも通知されます（どこで変更されても）。",
  webhookTitle: "ブラウザー以外でのステータスの変更（kintoneのWebhook）",
  webhookIntro:
    "プラグインが気づけるのは、レコード画面で実行された操作だけです。REST API・他のプラグイン・外部連携によるステータスの変更も通知するには、kintoneでこのアプリに中継サーバー宛てのWebhookを追加してください。",
  webhookToken: "Webhookのトークン（中継サーバーの管理者から受け取ります）",
  webhookTokenHint:
    "中継サーバーのKINTONE_WEBHOOK_TOKENです。下のURLを作るためだけに使い、どこにも保存しません。空欄のままにすると、トークンの部分を仮の文字列にしたURLになります。",
  webhookUrl: "kintoneに貼り付けるWebhook URL",
  webhookUrlNoRelay: "先に上の「中継サーバーのURL」を入力してください。",
  webhookCopy: "コピー",
  webhookCopied: "コピーしました。",
  webhookCopyFailed: "URLを選択して、手動でコピーしてください。",
  webhookSteps: [
    "アプリの設定 →「設定」タブ →「Webhook」→「＋」（追加）を開きます。",
    "「Webhook URL」に上のURLを貼り付けます。",
    "「通知を送信する条件」で「ステータスの更新」にチェックを入れます。「レコードの編集」にもチェックを入れると、変更前のステータスを中継サーバーが把握できます。",
    "Webhookを有効にして保存し、「アプリを更新」を押します。",
  ],
  webhookLimits:
    "Excel・CSVファイルの読み込み、複数レコードの一括操作、複数レコードをまとめて変更するREST API、1分間に60回を超えた操作では、kintoneはWebhookを送りません。これらの変更は、レコード画面で操作した場合にだけ通知されます。",
  webhookRulesNone: "ルールはまだありません。",
  webhookRulesServed: (names) => `Webhookで通知されるルール：${names}`,
  webhookRulesBrowserOnly: (names) => `レコード画面での操作のみのルール（操作名か変更前のステータスを条件にしています）：${names}`,
  webhookRulesReminders: (names) => `リマインダー（中継サーバーが日付に合わせて送ります）：${names}`,
};

export function triggerMessages(language: string): TriggerMessages {
  return language === "ja" ? jaTriggerMessages : enTriggerMessages;
}
