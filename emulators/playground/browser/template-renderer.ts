/**
 * Renders a LINE template message the way the LINE app shows it, closely enough to judge it by
 * eye: "buttons" (optional image placeholder and title, the text, up to four actions one under
 * another) and "confirm" (the text, two actions side by side). Other templates (carousels) show
 * their altText in a grey placeholder rather than disappearing.
 * (https://developers.line.biz/en/reference/messaging-api/#template-messages)
 *
 * It only reads the message; taps are handed to `onAction` (the caller acts as LINE would).
 */
import type { FlexAction, FlexNode, RenderOptions } from "./flex-renderer";

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function actionsOf(template: FlexNode): FlexAction[] {
  const actions = Array.isArray(template.actions) ? (template.actions as unknown[]) : [];
  return actions.filter((a): a is FlexAction => typeof a === "object" && a !== null && typeof (a as FlexAction).type === "string");
}

function actionButton(action: FlexAction, options: RenderOptions): HTMLElement {
  const button = el("button", "line-template-action", action.label ?? "") as HTMLButtonElement;
  button.type = "button";
  button.dataset.actionType = action.type;
  if (action.type === "uri" && action.uri) button.title = action.uri;
  button.addEventListener("click", () => options.onAction?.(action));
  return button;
}

export function renderTemplateMessage(message: FlexNode, options: RenderOptions = {}): HTMLElement {
  const template = (typeof message.template === "object" && message.template !== null ? message.template : {}) as FlexNode;
  const kind = str(template.type) ?? "unknown";
  if (kind !== "buttons" && kind !== "confirm") {
    return el("div", "flex-unknown", `[${kind} template] ${str(message.altText) ?? ""}`);
  }
  const card = el("div", `line-template line-template-${kind}`);
  card.dataset.template = kind;
  if (kind === "buttons" && str(template.thumbnailImageUrl)) card.append(el("div", "line-template-image flex-image", "image"));
  const body = el("div", "line-template-body");
  const title = kind === "buttons" ? str(template.title) : undefined;
  if (title) body.append(el("div", "line-template-title", title));
  body.append(el("div", "line-template-text", str(template.text) ?? ""));
  card.append(body);
  const actions = el("div", "line-template-actions");
  for (const action of actionsOf(template)) actions.append(actionButton(action, options));
  card.append(actions);
  return card;
}
