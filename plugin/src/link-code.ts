/** The "LINE link code" action: the relay issues a one-time code the customer sends to the bot. */
import { formatTime, h } from "./dom";
import type { RecordMessages } from "./record-messages";
import { describeRelayFailure } from "./relay-failure";

export function createLinkCodeButton(
  fields: string[],
  createCode: (field: string) => Promise<{ code: string; expiresAt: string }>,
  messages: RecordMessages,
  language: string,
): HTMLElement {
  const button = h("button", { type: "button", class: "kline-link-button" }, messages.linkCodeButton);
  button.addEventListener("click", () => {
    const select = h("select", { class: "kline-link-field" });
    for (const field of fields) select.append(h("option", { value: field }, field));
    const result = h("div", { class: "kline-link-result", "aria-live": "polite" });
    const create = h("button", { type: "button", class: "kline-link-create" }, messages.linkCodeCreate);
    const close = h("button", { type: "button", class: "kline-link-close" }, messages.close);
    const dialog = h("div", { class: "kline-dialog", role: "dialog", "aria-label": messages.linkCodeTitle },
      h("h3", {}, messages.linkCodeTitle),
      fields.length > 1 ? h("label", {}, `${messages.linkCodeField} `, select) : null,
      result,
      h("div", { class: "kline-dialog-buttons" }, create, close));
    const backdrop = h("div", { class: "kline-backdrop" }, dialog);
    close.addEventListener("click", () => backdrop.remove());
    create.addEventListener("click", () => {
      create.disabled = true;
      createCode(select.value || fields[0] || "")
        .then(({ code, expiresAt }) => {
          result.replaceChildren(
            h("div", { class: "kline-link-code" }, code),
            h("p", {}, messages.linkCodeInstructions(code, formatTime(expiresAt, language))),
          );
        })
        .catch((error: unknown) => {
          result.replaceChildren(h("p", { class: "kline-error" }, messages.linkCodeError(describeRelayFailure(error, messages))));
        })
        .finally(() => {
          create.disabled = false;
        });
    });
    document.body.append(backdrop);
  });
  return button;
}
