/**
 * Texts of the parts of the settings page that reach kintone users and take process steps
 * (approval-editor.ts, approval-note.ts), Japanese or English by the admin's kintone language.
 */

const enApprovalMessages = {
  // Recipients by kintone user
  assignees: "The record's assignees (those who connected LINE)",
  users: "kintone users (login names, comma-separated)",
  usersPlaceholder: "e.g. sato, suzuki",
  usersHint: "They get the message on the LINE account they connected to their kintone account.",
  processOffAssignees:
    "Process management is off in this app, so records have no assignees. To send to them, turn on process management in the app's settings.",
  // What a button does
  buttonKind: "When tapped",
  kindWriteBack: "Write into the record",
  kindStep: "Take a process step, as the user who taps",
  action: "Action",
  chooseAction: "(choose an action)",
  actionItem: (name: string, moves: string) => `${name} (${moves})`,
  askReason: "Ask for a reason first (posted as their comment on the record)",
  stepHint:
    "kintone decides, as for a click in kintone: only an assignee of the record can take the step, with their own permissions. The button's reply is sent once the step was taken.",
  processOffStep:
    "Process management is off in this app, so there are no actions to take. To use them, turn on process management in the app's settings.",
  noActions: "This app's process management has no actions yet: add them in the app's settings.",
  // The note for the admin
  noteTitle: "Rules that reach kintone users",
  noteLink:
    "Each person these rules reach must connect their kintone account to LINE once: in a one-to-one chat with the LINE account, they send “connect” and open the link they get back. Until then they get nothing.",
  noteNotLinked: "Whoever has not connected yet is listed as “not connected to LINE” in the Deliveries tab.",
  noteSetup:
    "Connecting needs the relay's kintone OAuth settings, made once by whoever runs the relay. The guide: docs/approvals.md in the relay's documentation (“Approvals from LINE, as the kintone user”).",
  noteRules: (names: string) => `Rules concerned: ${names}.`,
};

export type ApprovalMessages = typeof enApprovalMessages;

const jaApprovalMessages: ApprovalMessages = {
  assignees: "レコードの作業者（LINEと連携済みの人）",
  users: "kintoneユーザー（ログイン名、カンマ区切り）",
  usersPlaceholder: "例：sato, suzuki",
  usersHint: "kintoneのアカウントと連携したLINEアカウントに届きます。",
  processOffAssignees:
    "このアプリではプロセス管理が無効なため、レコードに作業者がいません。作業者に送るには、アプリの設定でプロセス管理を有効にしてください。",
  buttonKind: "タップされたときの動作",
  kindWriteBack: "レコードに書き込む",
  kindStep: "タップした人としてプロセスを進める",
  action: "アクション",
  chooseAction: "（アクションを選択）",
  actionItem: (name, moves) => `${name}（${moves}）`,
  askReason: "先に理由を尋ねる（その人のコメントとしてレコードに投稿）",
  stepHint:
    "kintoneで操作したときと同じく、実行できるかはkintoneが判断します。操作できるのはレコードの作業者だけで、その人の権限で実行されます。ボタンの返信は、プロセスが進んだ後に送られます。",
  processOffStep:
    "このアプリではプロセス管理が無効なため、実行できるアクションがありません。使うには、アプリの設定でプロセス管理を有効にしてください。",
  noActions: "このアプリのプロセス管理にはアクションがまだありません。アプリの設定で追加してください。",
  noteTitle: "kintoneユーザーに届くルール",
  noteLink:
    "これらのルールで届ける相手は、それぞれ一度だけ、kintoneのアカウントとLINEを連携する必要があります。LINE公式アカウントとの1対1のトークで「connect」と送信し、返信に届いたリンクを開きます。連携するまでは何も届きません。",
  noteNotLinked: "まだ連携していない人は、「配信状況」タブに「LINE未連携のため未送信」と表示されます。",
  noteSetup:
    "連携には、中継サーバーのkintone OAuthの設定が必要です（中継サーバーの管理者が一度だけ行います）。手順は中継サーバーのドキュメント「docs/approvals.md」（LINEからの承認）をご覧ください。",
  noteRules: (names) => `対象のルール：${names}`,
};

export function approvalMessages(language: string): ApprovalMessages {
  return language === "ja" ? jaApprovalMessages : enApprovalMessages;
}
