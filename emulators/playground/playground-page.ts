/** The playground's HTML and CSS (plain, no framework); the behaviour is in browser/playground.ts. */

export interface PlaygroundPageInput {
  appId: number;
  appName: string;
  /** The demo records, for the links above the record page. */
  records: Array<{ id: string; label: string }>;
  /** The plugin's settings page for the demo app on the kintone page emulator. */
  settingsPath: string;
  /** The demo LINE user the phone belongs to. */
  user: { id: string; displayName: string };
  /** The LINE account's name shown at the top of the chat. */
  botName: string;
  /** Who the phone's browser is logged in to kintone as, when it opens the connect link logged in. */
  phoneKintoneUser?: { code: string; name: string };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const CSS = `
* { box-sizing: border-box; }
body { margin: 0; font-family: "Helvetica Neue", Arial, "Hiragino Kaku Gothic ProN", Meiryo, sans-serif; background: #eef1f4; color: #333; }
.pg-bar { display: flex; align-items: center; gap: 20px; padding: 10px 20px; background: #fff; border-bottom: 1px solid #dde3e8; }
.pg-bar h1 { font-size: 16px; margin: 0; }
.pg-badge { background: #fff4d6; color: #8a6100; border: 1px solid #f0d58a; border-radius: 10px; padding: 1px 8px; font-size: 12px; }
.pg-nav { display: flex; gap: 6px; align-items: center; font-size: 13px; flex-wrap: wrap; }
.pg-nav a { color: #1e6fb8; text-decoration: none; padding: 3px 8px; border-radius: 4px; }
.pg-nav a:hover { background: #eaf3fb; }
.pg-nav a.pg-current { background: #1e6fb8; color: #fff; }
.pg-hint { margin-left: auto; font-size: 12px; color: #667; max-width: 420px; }
.pg-main { display: flex; gap: 20px; padding: 16px 20px; align-items: flex-start; }
.pg-kintone { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 12px; }
.pg-pane-title { font-size: 12px; color: #778; text-transform: uppercase; letter-spacing: .06em; margin-bottom: 6px; }
#pg-kintone { width: 100%; height: max(480px, calc(100vh - 330px)); border: 1px solid #d5dbe0; border-radius: 6px; background: #f5f5f5; }
.pg-comments { background: #fff; border: 1px solid #d5dbe0; border-radius: 6px; padding: 10px 14px; }
.pg-comments h2 { font-size: 13px; margin: 0 0 8px; color: #555; }
#pg-comments { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; max-height: 180px; overflow: auto; }
.pg-comment { border-left: 3px solid #3498db; padding: 2px 10px; }
.pg-comment-head { font-size: 11px; color: #889; }
.pg-comment-text { font-size: 13px; white-space: pre-wrap; }
.pg-comment-empty { font-size: 12px; color: #999; }
.pg-phone { flex: 0 0 430px; }
.pg-device { width: 430px; height: max(560px, min(780px, calc(100vh - 130px))); border-radius: 36px; background: #1d1f22; padding: 14px; box-shadow: 0 10px 30px rgba(0,0,0,.18); display: flex; flex-direction: column; }
.pg-device-top { background: #26303d; color: #fff; border-radius: 24px 24px 0 0; padding: 14px 16px 10px; font-size: 15px; font-weight: 700; display: flex; justify-content: space-between; align-items: baseline; }
.pg-device-top small { font-weight: 400; font-size: 11px; color: #b8c2cf; }
#pg-chat { flex: 1 1 auto; overflow-y: auto; background: #8aa4c8; padding: 12px 10px; display: flex; flex-direction: column; gap: 10px; }
.pg-device-bottom { background: #fff; border-radius: 0 0 24px 24px; padding: 10px 12px 14px; display: flex; gap: 8px; margin: 0; }
.pg-device-bottom input { flex: 1 1 auto; min-width: 0; border: 1px solid #dde1e6; border-radius: 18px; padding: 8px 14px; font: inherit; font-size: 14px; background: #f3f5f7; }
.pg-device-bottom button { border: 0; background: none; color: #06c755; font-weight: 700; font-size: 14px; cursor: pointer; }
.pg-chat-empty { color: #f4f7fb; font-size: 13px; text-align: center; margin-top: 40%; padding: 0 24px; }
.pg-row { display: flex; align-items: flex-end; gap: 6px; }
.pg-row-user { flex-direction: row-reverse; }
.pg-avatar { flex: 0 0 32px; height: 32px; border-radius: 50%; background: #06c755; color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; align-self: flex-start; }
.pg-content { min-width: 0; max-width: 300px; }
.pg-comments[hidden] { display: none; }
.pg-time { font-size: 10px; color: #eef2f8; white-space: nowrap; }
.pg-text { padding: 8px 12px; border-radius: 18px; font-size: 14px; line-height: 1.4; white-space: pre-wrap; overflow-wrap: anywhere; }
.pg-text-bot { background: #fff; color: #111; border-top-left-radius: 4px; }
.pg-text-user { background: #a6e57f; color: #111; border-top-right-radius: 4px; }
.flex-bubble { background: #fff; border-radius: 16px; overflow: hidden; max-width: 100%; }
.flex-carousel { display: flex; gap: 8px; overflow-x: auto; max-width: 300px; }
.flex-carousel .flex-bubble { flex: 0 0 auto; }
.flex-text { line-height: 1.4; }
.flex-button { border: 0; border-radius: 8px; font-size: 15px; font-family: inherit; cursor: pointer; width: 100%; background: transparent; padding: 0 12px; }
.flex-button:hover { filter: brightness(.95); }
.flex-button:active { filter: brightness(.85); }
.flex-image { background: repeating-linear-gradient(45deg, #e6e9ee, #e6e9ee 8px, #f2f4f7 8px, #f2f4f7 16px); color: #99a; font-size: 11px; display: flex; align-items: center; justify-content: center; max-width: 100%; }
.flex-icon { display: inline-block; background: #c9ced6; border-radius: 3px; flex: 0 0 auto !important; }
.flex-unknown { background: #eee; color: #888; font-size: 12px; padding: 4px; }
.line-template { background: #fff; border-radius: 16px; overflow: hidden; width: 260px; max-width: 100%; }
.line-template-image { height: 130px; }
.line-template-body { padding: 14px 16px; font-size: 14px; line-height: 1.45; }
.line-template-title { font-weight: 700; font-size: 15px; margin-bottom: 4px; }
.line-template-text { white-space: pre-wrap; overflow-wrap: anywhere; color: #333; }
.line-template-actions { display: flex; flex-direction: column; }
.line-template-confirm .line-template-actions { flex-direction: row; }
.line-template-action { border: 0; border-top: 1px solid #e6e8eb; background: #fff; color: #42659a; font: inherit; font-size: 15px; padding: 12px; cursor: pointer; flex: 1 1 0; }
.line-template-confirm .line-template-action + .line-template-action { border-left: 1px solid #e6e8eb; }
.line-template-action:hover { background: #f4f6f8; }
.pg-quick { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.pg-quick-chip { border: 1px solid #06c755; background: #fff; color: #06a847; border-radius: 16px; padding: 5px 12px; font: inherit; font-size: 13px; cursor: pointer; }
.pg-quick-chip:hover { background: #effbf3; }
.pg-phone-note { font-size: 12px; color: #556; margin: 10px 4px 0; max-width: 430px; line-height: 1.5; }
`;

export function playgroundHtml(input: PlaygroundPageInput): string {
  const recordPath = (id: string) => `/k/${input.appId}/show?record=${encodeURIComponent(id)}`;
  const first = input.records[0];
  const recordLinks = input.records
    .map(
      (record, index) =>
        `<a href="${escapeHtml(recordPath(record.id))}" data-frame-link data-record="${escapeHtml(record.id)}"${index === 0 ? ' class="pg-current"' : ""}>${escapeHtml(record.label)}</a>`,
    )
    .join("");
  const boot = JSON.stringify({ appId: input.appId, ...(input.phoneKintoneUser ? { phoneKintoneUser: input.phoneKintoneUser } : {}) }).replace(/</g, "\\u003c");
  const manager = input.phoneKintoneUser;
  const approvalsHint = manager
    ? ` Approvals: send <b>connect</b> from the phone to link it to kintone as ${escapeHtml(manager.name)}; then <b>Request approval</b> on a record and tap <b>承認</b> or <b>却下</b> on the phone.`
    : "";
  const phoneNote = manager
    ? `<p class="pg-phone-note" id="pg-phone-note">Send <b>connect</b> (連携): the link in the reply opens in the phone's browser, logged in to kintone as ${escapeHtml(manager.name)} (${escapeHtml(manager.code)}) and to LINE as ${escapeHtml(input.user.displayName)}.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox playground: kintone → LINE</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
<script>window.__PLAYGROUND__ = ${boot};</script>
</head><body>
<header class="pg-bar">
  <h1>kintone → LINE <span class="pg-badge">sandbox</span></h1>
  <nav class="pg-nav" aria-label="Pages of the demo app">
    <span>${escapeHtml(input.appName)}:</span>${recordLinks}
    <a href="${escapeHtml(input.settingsPath)}" data-frame-link id="pg-settings-link">Plugin settings</a>
  </nav>
  <p class="pg-hint">Run <b>Approve</b> on a record (left): the LINE message arrives on the phone (right).
  Tap <b>Got it</b>: the relay replies, and the record shows who acknowledged. A <b>LINE link code</b> from a record can be sent from the phone.${approvalsHint}</p>
</header>
<main class="pg-main">
  <section class="pg-kintone" aria-label="kintone">
    <div>
      <div class="pg-pane-title">kintone (emulated) · the real plugin from dist/plugin.zip</div>
      <iframe id="pg-kintone" name="pg-kintone" title="kintone record page" src="${escapeHtml(first ? recordPath(first.id) : input.settingsPath)}"></iframe>
    </div>
    <div class="pg-comments" id="pg-comments-box"><h2 id="pg-comments-title">Comments</h2><ul id="pg-comments"></ul></div>
  </section>
  <section class="pg-phone" aria-label="LINE">
    <div class="pg-pane-title">LINE (emulated) · ${escapeHtml(input.user.displayName)}'s phone</div>
    <div class="pg-device">
      <div class="pg-device-top"><span>${escapeHtml(input.botName)}</span><small>${escapeHtml(input.user.displayName)} · ${escapeHtml(input.user.id.slice(0, 9))}…</small></div>
      <div id="pg-chat" role="log" aria-live="polite"></div>
      <form class="pg-device-bottom" id="pg-say">
        <input id="pg-say-input" autocomplete="off" placeholder="Aa (a link code, connect, a reason…)" aria-label="Message">
        <button type="submit">Send</button>
      </form>
    </div>
    ${phoneNote}
  </section>
</main>
<script src="/playground/app.js"></script>
</body></html>`;
}
