/**
 * A note for the admin, shown while any rule reaches kintone users (the record's assignees, named
 * users) or has a button that takes a process step: those people must connect their kintone
 * account to LINE once ("connect"), whoever has not is listed as not connected in the Deliveries
 * tab, and the relay's operator sets up the connection (docs/approvals.md).
 */
import type { Rule } from "../../../common/rules/rule-set";
import { approvalMessages } from "./approval-messages";

/** The rule reaches kintone users or acts as one: it needs their LINE connection. */
export function reachesKintoneUsers(rule: Rule): boolean {
  return (
    rule.recipients.assignees === true ||
    (rule.recipients.users?.length ?? 0) > 0 ||
    rule.buttons.some((button) => button.action !== undefined)
  );
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface ApprovalNote {
  section: HTMLElement;
  /** Shows the note naming the rules concerned, or hides it when there is none. */
  update(rules: readonly Rule[]): void;
}

export function renderApprovalNote(language: string): ApprovalNote {
  const a = approvalMessages(language);
  const section = el("section", "kline-approval-note");
  section.setAttribute("aria-labelledby", "kline-approval-note-title");
  Object.assign(section.style, {
    border: "1px solid #c5d0d8",
    borderLeft: "4px solid #06c755",
    background: "#f7faf8",
    padding: "8px 16px",
    margin: "12px 0",
  });
  const title = el("h3", "kline-section-title", a.noteTitle);
  title.id = "kline-approval-note-title";
  title.style.marginTop = "4px";
  const rulesLine = el("p", "kline-approval-note-rules");
  const setup = el("p", "kline-approval-note-setup", a.noteSetup);
  section.append(title, el("p", "kline-approval-note-link", a.noteLink), el("p", "kline-approval-note-unlinked", a.noteNotLinked), setup, rulesLine);
  for (const p of section.querySelectorAll("p")) p.style.margin = "4px 0";
  section.hidden = true;
  return {
    section,
    update(rules) {
      const concerned = rules.filter(reachesKintoneUsers);
      section.hidden = concerned.length === 0;
      const names = concerned.map((rule) => (language === "ja" ? `「${rule.name?.trim() || rule.id}」` : `"${rule.name?.trim() || rule.id}"`));
      rulesLine.textContent = a.noteRules(language === "ja" ? names.join("") : names.join(", "));
    },
  };
}
