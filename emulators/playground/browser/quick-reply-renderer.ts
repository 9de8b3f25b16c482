/**
 * A message's quick replies as the LINE app shows them: chips under the latest message, gone once
 * anything newer is in the chat. Only action items are drawn (camera, location and similar
 * actions have no meaning here and appear as their label, doing nothing).
 * (https://developers.line.biz/en/reference/messaging-api/#quick-reply)
 */
import type { FlexAction, FlexNode, RenderOptions } from "./flex-renderer";

/** The chips of `message.quickReply`, or undefined when it has none. */
export function renderQuickReplies(message: FlexNode, options: RenderOptions = {}): HTMLElement | undefined {
  const quickReply = message.quickReply as { items?: unknown } | undefined;
  const items = Array.isArray(quickReply?.items) ? (quickReply.items as Array<{ type?: unknown; action?: FlexAction }>) : [];
  const actions = items.filter((item) => item.type === "action" && typeof item.action?.type === "string").map((item) => item.action as FlexAction);
  if (actions.length === 0) return undefined;
  const strip = document.createElement("div");
  strip.className = "pg-quick";
  for (const action of actions) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "pg-quick-chip";
    chip.dataset.actionType = action.type;
    chip.textContent = action.label ?? "";
    chip.addEventListener("click", () => options.onAction?.(action));
    strip.append(chip);
  }
  return strip;
}
