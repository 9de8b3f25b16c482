/**
 * Renders a Flex message (the builder's output) as a LINE-like chat bubble. Covers the components
 * a notification uses (box, text, button, separator, filler, image, icon, span); anything else is
 * shown as a grey placeholder so that a gap in the preview is visible rather than silent.
 */

type FlexNode = Record<string, unknown> & { type?: string };

const SIZE_PX: Record<string, number> = {
  xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74,
};
const SPACING_PX: Record<string, number> = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };

function px(value: unknown, table: Record<string, number>): string | undefined {
  if (typeof value !== "string") return undefined;
  if (value in table) return `${table[value]}px`;
  if (/^\d+(\.\d+)?(px|%)$/.test(value)) return value;
  return undefined;
}

function el(tag: string, className: string, style: Partial<CSSStyleDeclaration> = {}): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  Object.assign(node.style, style);
  return node;
}

function renderText(node: FlexNode): HTMLElement {
  const text = el("div", "kline-flex-text", {
    fontSize: px(node.size, SIZE_PX) ?? "16px",
    fontWeight: node.weight === "bold" ? "bold" : "normal",
    color: typeof node.color === "string" ? node.color : "#111111",
    textAlign: node.align === "end" ? "right" : node.align === "center" ? "center" : "left",
    whiteSpace: node.wrap === true ? "pre-wrap" : "nowrap",
    overflow: "hidden",
    textOverflow: "ellipsis",
  });
  if (Array.isArray(node.contents) && node.contents.length > 0) {
    for (const span of node.contents as FlexNode[]) {
      const s = document.createElement("span");
      s.textContent = typeof span.text === "string" ? span.text : "";
      if (span.weight === "bold") s.style.fontWeight = "bold";
      if (typeof span.color === "string") s.style.color = span.color;
      text.append(s);
    }
  } else {
    text.textContent = typeof node.text === "string" ? node.text : "";
  }
  return text;
}

function renderButton(node: FlexNode): HTMLElement {
  const action = (node.action ?? {}) as FlexNode;
  const style = node.style === "primary" || node.style === "secondary" ? node.style : "link";
  const color = typeof node.color === "string" ? node.color : style === "primary" ? "#06c755" : undefined;
  const button = el("div", `kline-flex-button kline-flex-button-${style}`, {
    background: style === "primary" ? (color ?? "#06c755") : style === "secondary" ? "#f0f0f0" : "transparent",
    color: style === "primary" ? "#ffffff" : style === "link" ? (color ?? "#42659a") : "#111111",
    height: node.height === "sm" ? "40px" : "52px",
  });
  button.textContent = typeof action.label === "string" ? action.label : "";
  button.title = action.type === "uri" && typeof action.uri === "string" ? action.uri : String(action.type ?? "");
  return button;
}

function renderBox(node: FlexNode): HTMLElement {
  const layout = node.layout === "horizontal" || node.layout === "baseline" ? "row" : "column";
  const box = el("div", `kline-flex-box kline-flex-${String(node.layout ?? "vertical")}`, {
    display: "flex",
    flexDirection: layout,
    alignItems: node.layout === "baseline" ? "baseline" : "stretch",
    gap: px(node.spacing, SPACING_PX) ?? "0px",
    background: typeof node.backgroundColor === "string" ? node.backgroundColor : "",
    padding: px(node.paddingAll, SPACING_PX) ?? "",
    borderRadius: typeof node.cornerRadius === "string" ? (px(node.cornerRadius, SPACING_PX) ?? "") : "",
  });
  for (const child of Array.isArray(node.contents) ? (node.contents as FlexNode[]) : []) {
    box.append(renderNode(child, layout));
  }
  return box;
}

function renderNode(node: FlexNode, parentLayout: "row" | "column"): HTMLElement {
  let out: HTMLElement;
  switch (node.type) {
    case "box":
      out = renderBox(node);
      break;
    case "text":
      out = renderText(node);
      break;
    case "button":
      out = renderButton(node);
      break;
    case "separator":
      out = el("div", "kline-flex-separator", {
        background: typeof node.color === "string" ? node.color : "#e5e5e5",
        [parentLayout === "row" ? "width" : "height"]: "1px",
        alignSelf: "stretch",
      });
      break;
    case "filler":
    case "spacer":
      out = el("div", "kline-flex-filler", { flex: "1 1 0" });
      break;
    case "image":
    case "icon": {
      const img = document.createElement("img");
      img.className = `kline-flex-${node.type}`;
      img.alt = "";
      if (typeof node.url === "string" && /^https:/.test(node.url)) img.src = node.url;
      out = img;
      break;
    }
    default:
      out = el("div", "kline-flex-unknown", { color: "#999", fontSize: "11px" });
      out.textContent = `[${String(node.type)}]`;
  }
  if (typeof node.flex === "number") out.style.flex = `${node.flex} ${node.flex} 0`;
  else if (parentLayout === "row" && node.type !== "separator") out.style.flex = "1 1 0";
  const margin = px(node.margin, SPACING_PX);
  if (margin) out.style[parentLayout === "row" ? "marginLeft" : "marginTop"] = margin;
  return out;
}

/** A chat row: the bot's icon and the bubble, like the LINE app shows it. */
export function renderFlexMessage(message: { altText?: string; contents?: unknown }): HTMLElement {
  const row = el("div", "kline-chat-row");
  row.append(el("div", "kline-chat-avatar"));
  const bubble = el("div", "kline-flex-bubble");
  const contents = (message.contents ?? {}) as FlexNode;
  const bubbles = contents.type === "carousel" && Array.isArray(contents.contents) ? (contents.contents as FlexNode[]) : [contents];
  for (const b of bubbles) {
    for (const part of ["header", "hero", "body", "footer"] as const) {
      const block = b[part] as FlexNode | undefined;
      if (!block) continue;
      const section = el("div", `kline-flex-${part}`);
      section.append(renderNode(block, "column"));
      bubble.append(section);
    }
  }
  row.append(bubble);
  return row;
}
