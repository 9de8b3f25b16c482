/**
 * What the settings page tells the admin around the form: the problems still shown (a summary at
 * the top, each a link to its control), the "Update App" reminder after Save, and the undo
 * offer after a rule was removed.
 */
import type { SettingsMessages } from "./settings-messages";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A control's name as the admin reads it: its KUC label, else its aria-label. */
function controlName(control: HTMLElement): string {
  const label = (control as HTMLElement & { label?: unknown }).label;
  if (typeof label === "string" && label.trim()) return label.trim();
  return control.getAttribute("aria-label") ?? "";
}

/** The error a control shows now: a KUC control's `error`, or the text of a visible error line. */
function shownError(control: HTMLElement): string {
  const error = (control as HTMLElement & { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (control.classList.contains("kline-error-line") && !control.hidden) return control.textContent ?? "";
  return "";
}

let linkCounter = 0;

/**
 * Lists every problem shown at a control inside `form`, each as a link that brings its control
 * into view and focus; empty and hidden when there is none.
 */
export function refreshProblemSummary(summary: HTMLElement, form: HTMLElement, m: SettingsMessages): void {
  const problems: { control: HTMLElement; text: string }[] = [];
  for (const control of form.querySelectorAll<HTMLElement>("[data-error-path]")) {
    const message = shownError(control);
    if (!message) continue;
    const name = controlName(control);
    problems.push({ control, text: name ? `${name}: ${message}` : message });
  }
  summary.replaceChildren();
  summary.hidden = problems.length === 0;
  if (problems.length === 0) return;
  summary.setAttribute("role", "region");
  summary.setAttribute("aria-label", m.problemsSummary(problems.length));
  summary.append(el("p", "kline-summary-title", m.problemsSummary(problems.length)));
  const list = el("ul", "kline-summary-list");
  for (const { control, text } of problems) {
    if (!control.id) control.id = `kline-problem-${++linkCounter}`;
    const link = el("a", "kline-summary-link", text);
    link.href = `#${control.id}`;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      control.scrollIntoView({ block: "center" });
      const focusable = control.querySelector<HTMLElement>("input, textarea, button, [tabindex]") ?? control;
      focusable.focus();
    });
    const item = el("li", "kline-summary-item");
    item.append(link);
    list.append(item);
  }
  summary.append(list);
}

/** After Save: nothing takes effect until the admin presses 「アプリを更新」 / "Update App". */
export function showUpdateAppReminder(target: HTMLElement, m: SettingsMessages): void {
  target.replaceChildren(el("strong", "kline-update-app-text", m.updateAppReminder));
  target.hidden = false;
  target.setAttribute("role", "status");
}

/** After a rule was removed: says so, with Undo (until another rule is removed, or Save). */
export function offerUndo(target: HTMLElement, text: string, m: SettingsMessages, undo: () => void): void {
  const button = el("button", "kline-undo", m.undo);
  button.type = "button";
  button.addEventListener("click", () => {
    target.replaceChildren();
    target.hidden = true;
    undo();
  });
  target.replaceChildren(el("span", "kline-undo-text", text), button);
  target.hidden = false;
  target.setAttribute("role", "status");
}
