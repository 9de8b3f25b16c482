/** Tiny DOM helpers for the record pages (no framework: the desktop script has a size budget). */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** A short notice at the top of the page that goes away by itself; it never blocks the user. */
export function showNotice(text: string, ms = 10_000): void {
  const notice = h("div", { class: "kline-notice", role: "status" }, text);
  const close = h("button", { type: "button", class: "kline-notice-close", "aria-label": "close" }, "×");
  close.addEventListener("click", () => notice.remove());
  notice.append(close);
  document.body.append(notice);
  setTimeout(() => notice.remove(), ms);
}

export function formatTime(iso: string, language: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(language === "ja" ? "ja-JP" : "en-US", { dateStyle: "medium", timeStyle: "short" });
}
