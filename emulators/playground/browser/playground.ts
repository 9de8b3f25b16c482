/**
 * The playground page's script: the phone pane (the demo LINE user's chat, polled from the
 * sandbox: texts, Flex and template messages, quick replies under the latest message), taps on
 * its buttons and texts typed into it (sent to the sandbox, which posts a signed webhook to the
 * relay as LINE would), the phone's browser for the connect link, and keeping the record page (an
 * iframe of the kintone page emulator, same origin) and its comments up to date.
 */
import { renderFlexMessage, type FlexAction, type FlexNode } from "./flex-renderer";
import { renderQuickReplies } from "./quick-reply-renderer";
import { renderTemplateMessage } from "./template-renderer";

interface ChatEntry {
  id: string;
  from: "bot" | "user";
  at: number;
  /** A LINE message object for the bot; for the user, a text message. */
  message: FlexNode;
  /** push or reply (bot only). */
  kind?: string;
}

interface Chat {
  user: { id: string; displayName: string };
  entries: ChatEntry[];
}

interface KintoneComment {
  id: string;
  text: string;
  createdAt: string;
  creator: { code: string; name: string };
}

interface PlaygroundBoot {
  appId: number;
  /** Present when the phone's browser opens connect links logged in (sandbox): who in kintone. */
  phoneKintoneUser?: { code: string; name: string };
}

interface EmuWindow extends Window {
  __KINTONE_EMU__?: { page: string; recordId: string | null };
  __kintoneEmu?: { ready: Promise<void>; reloadRecord(): Promise<void> };
}

const boot = (window as unknown as { __PLAYGROUND__: PlaygroundBoot }).__PLAYGROUND__;
const chatList = document.getElementById("pg-chat") as HTMLElement;
const frame = document.getElementById("pg-kintone") as HTMLIFrameElement;
const commentList = document.getElementById("pg-comments") as HTMLElement;
const commentTitle = document.getElementById("pg-comments-title") as HTMLElement;
const commentBox = document.getElementById("pg-comments-box") as HTMLElement;

let shownEntries: string | undefined;

const time = (at: number): string =>
  new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });

function textBubble(text: string, from: "bot" | "user"): HTMLElement {
  const bubble = document.createElement("div");
  bubble.className = `pg-text pg-text-${from}`;
  bubble.textContent = text;
  return bubble;
}

const onAction = (action: FlexAction) => void tap(action);

function renderMessage(message: FlexNode, from: "bot" | "user"): HTMLElement {
  if (message.type === "flex") return renderFlexMessage(message, { onAction });
  if (message.type === "template") return renderTemplateMessage(message, { onAction });
  if (message.type === "text" || message.type === "textV2") return textBubble(String(message.text ?? ""), from);
  return textBubble(`[${String(message.type)} message]`, from);
}

function renderChat(chat: Chat): void {
  const key = chat.entries.map((entry) => entry.id).join(",");
  if (key === shownEntries) return;
  shownEntries = key;
  const nearBottom = chatList.scrollHeight - chatList.scrollTop - chatList.clientHeight < 80;
  chatList.replaceChildren();
  if (chat.entries.length === 0) {
    const empty = document.createElement("p");
    empty.className = "pg-chat-empty";
    empty.textContent = "No messages yet. Run \u201cApprove\u201d on the record: the notification arrives here." +
      (boot.phoneKintoneUser ? ` Or send \u201cconnect\u201d to link this LINE account to kintone (${boot.phoneKintoneUser.name}).` : "");
    chatList.append(empty);
  }
  const last = chat.entries[chat.entries.length - 1];
  for (const entry of chat.entries) {
    const row = document.createElement("div");
    row.className = `pg-row pg-row-${entry.from}`;
    row.dataset.kind = entry.kind ?? entry.from;
    if (entry.from === "bot") {
      const avatar = document.createElement("div");
      avatar.className = "pg-avatar";
      avatar.textContent = "k";
      row.append(avatar);
    }
    const content = document.createElement("div");
    content.className = "pg-content";
    content.append(renderMessage(entry.message, entry.from));
    // LINE shows quick replies only while their message is the latest in the chat.
    const quick = entry === last && entry.from === "bot" ? renderQuickReplies(entry.message, { onAction }) : undefined;
    if (quick) content.append(quick);
    const stamp = document.createElement("span");
    stamp.className = "pg-time";
    stamp.textContent = time(entry.at);
    row.append(content, stamp);
    chatList.append(row);
  }
  if (nearBottom || chat.entries.length > 0) chatList.scrollTop = chatList.scrollHeight;
  void refreshRecord();
}

async function pollChat(): Promise<void> {
  try {
    const response = await fetch("/playground/api/chat");
    if (response.ok) renderChat((await response.json()) as Chat);
  } catch {
    // The sandbox was stopped; keep trying quietly.
  }
}

/** The user sends a text from the phone (typed, or a message action's text). */
async function say(text: string): Promise<void> {
  await fetch("/playground/api/say", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  await pollChat();
}

/**
 * The relay's connect link, opened as the phone's browser would: in a window of its own (the
 * relay's connect pages may not be framed), logged in to kintone and LINE by the sandbox first.
 * The sandbox route lives on the link's own host, so the logins reach the emulators on that host.
 */
function openInPhoneBrowser(url: URL): void {
  const opener = `${url.origin}/playground/phone/open?url=${encodeURIComponent(url.href)}`;
  window.open(opener, "pg-phone-browser", "popup,width=420,height=720");
  const note = document.getElementById("pg-phone-note");
  if (note && boot.phoneKintoneUser) {
    note.textContent =
      `The link opened in the phone's browser (a new window), logged in to kintone as ${boot.phoneKintoneUser.name} ` +
      `(${boot.phoneKintoneUser.code}) and to LINE as this user. / スマホのブラウザ（別ウィンドウ）で開きました。`;
  }
}

/** A tap on a button or quick reply, as the LINE app handles it. */
async function tap(action: FlexAction): Promise<void> {
  if (action.type === "message" && action.text) {
    await say(action.text);
    return;
  }
  if (action.type === "postback") {
    await fetch("/playground/api/tap", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: action.data ?? "", displayText: action.displayText ?? "" }),
    });
    await pollChat();
    return;
  }
  if (action.type === "uri" && action.uri) {
    const url = new URL(action.uri, location.href);
    // The record link points at this sandbox's kintone page: open it on the left. (The page reads
    // the record from the hash only when it loads, so the query form makes the frame load.)
    if (url.origin === location.origin && url.pathname.startsWith("/k/")) {
      const record = /record=(\d+)/.exec(url.hash)?.[1];
      frame.src = record ? `${url.pathname}?record=${record}` : url.pathname + url.search;
    } else if (boot.phoneKintoneUser && url.pathname.endsWith("/connect/start")) {
      openInPhoneBrowser(url);
    } else {
      window.open(url.href, "_blank", "noopener");
    }
  }
}

/** The record the iframe shows, when it shows a record page. */
function frameRecord(): { win: EmuWindow; recordId: string } | undefined {
  try {
    const win = frame.contentWindow as EmuWindow | null;
    const emu = win?.__KINTONE_EMU__;
    if (!win || !emu || emu.page !== "desktop" || !emu.recordId) return undefined;
    return { win, recordId: emu.recordId };
  } catch {
    return undefined;
  }
}

async function refreshComments(): Promise<void> {
  const shown = frameRecord();
  commentBox.hidden = !shown;
  if (!shown) return;
  const response = await fetch(`/k/v1/record/comments.json?app=${boot.appId}&record=${shown.recordId}`);
  if (!response.ok) return;
  const { comments } = (await response.json()) as { comments: KintoneComment[] };
  commentTitle.textContent = `Comments on record ${shown.recordId} (newest first)`;
  commentList.replaceChildren();
  if (comments.length === 0) {
    const empty = document.createElement("li");
    empty.className = "pg-comment-empty";
    empty.textContent = "No comments yet.";
    commentList.append(empty);
  }
  for (const comment of comments) {
    const item = document.createElement("li");
    item.className = "pg-comment";
    const head = document.createElement("div");
    head.className = "pg-comment-head";
    head.textContent = `${comment.creator.name} · ${new Date(comment.createdAt).toLocaleString()}`;
    const body = document.createElement("div");
    body.className = "pg-comment-text";
    body.textContent = comment.text;
    item.append(head, body);
    commentList.append(item);
  }
}

/** Re-reads the record in the iframe (fields and the plugin's panel) and its comments. */
async function refreshRecord(): Promise<void> {
  const shown = frameRecord();
  if (shown?.win.__kintoneEmu) {
    try {
      await shown.win.__kintoneEmu.ready;
      await shown.win.__kintoneEmu.reloadRecord();
    } catch {
      // The page is being replaced; its load event refreshes again.
    }
  }
  await refreshComments();
}

const sayForm = document.getElementById("pg-say") as HTMLFormElement;
const sayInput = document.getElementById("pg-say-input") as HTMLInputElement;
sayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = sayInput.value.trim();
  if (!text) return;
  sayInput.value = "";
  void say(text);
});

const frameLinks = [...document.querySelectorAll<HTMLAnchorElement>("[data-frame-link]")];
frame.addEventListener("load", () => {
  // Whatever brought the frame here (a link above, "Open in kintone"), mark where it is.
  let where = "";
  try {
    where = (frame.contentWindow?.location.pathname ?? "") + (frame.contentWindow?.location.search ?? "");
  } catch {
    // not this origin
  }
  for (const link of frameLinks) link.classList.toggle("pg-current", link.getAttribute("href") === where);
  void refreshComments();
});
for (const link of frameLinks) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    frame.src = link.getAttribute("href") ?? "";
  });
}

void pollChat();
setInterval(() => void pollChat(), 1000);
// Comments change from the relay's side too (an acknowledgement): re-read now and then.
setInterval(() => void refreshComments(), 3000);
