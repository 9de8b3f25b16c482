/**
 * Renders a LINE Flex message into DOM elements the way the LINE app lays it out, closely enough
 * to judge a message by eye: bubble and carousel; box layouts (vertical, horizontal, baseline)
 * with flex, spacing, margin, padding; text with spans; buttons in LINE's three styles;
 * separator; filler; image and icon as placeholders. Keyword sizes follow LINE's tables. Anything
 * else becomes a visible grey placeholder rather than silently disappearing.
 *
 * It only reads the message; taps are handed to `onAction` (the caller sends the webhook).
 */

export type FlexNode = Record<string, unknown> & { type?: string };

export interface FlexAction {
  type: string;
  label?: string;
  data?: string;
  displayText?: string;
  text?: string;
  uri?: string;
}

export interface RenderOptions {
  onAction?: (action: FlexAction) => void;
}

/** LINE's keyword tables (Flex Message layout docs). */
const TEXT_SIZE_PX: Record<string, number> = {
  xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74,
};
const SPACING_PX: Record<string, number> = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const ICON_SIZE_PX = TEXT_SIZE_PX;
const IMAGE_SIZE_PX: Record<string, number> = {
  xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 220,
};
const BUBBLE_WIDTH_PX: Record<string, number> = { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 500 };
/** Default padding of each bubble block. */
const BLOCK_PADDING: Record<string, string> = { header: "20px", hero: "0px", body: "20px", footer: "10px" };
const BUTTON_COLORS = { primary: "#17c950", secondary: "#dcdfe5", link: "#42659a" } as const;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** A keyword from `table`, or a px / % value as LINE allows it; otherwise undefined. */
function length(value: unknown, table: Record<string, number>): string | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (Object.hasOwn(table, text)) return `${table[text]}px`;
  if (/^\d+(\.\d+)?(px|%)$/.test(text)) return text;
  return undefined;
}

function el(tag: string, className: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

type Direction = "vertical" | "horizontal";

/**
 * Space before a component, along the parent box's main axis: its own margin, else the parent's
 * spacing (which goes only between components, so never before the first).
 */
function applyMargin(node: HTMLElement, component: FlexNode, parent: Direction, first: boolean, spacing: string | undefined): void {
  const margin = length(component.margin, SPACING_PX) ?? (first ? undefined : spacing);
  if (!margin) return;
  if (parent === "vertical") node.style.marginTop = margin;
  else node.style.marginLeft = margin;
}

/** Children of horizontal boxes share the width (flex 1 by default); of vertical boxes, keep their height (flex 0). */
function applyFlex(node: HTMLElement, component: FlexNode, parent: Direction): void {
  const flex = num(component.flex) ?? (parent === "horizontal" ? 1 : 0);
  node.style.flex = flex > 0 ? `${flex} 1 0px` : "0 0 auto";
  node.style.minWidth = "0";
}

function renderText(node: FlexNode): HTMLElement {
  const text = el("div", "flex-text");
  const style = text.style;
  style.fontSize = length(node.size, TEXT_SIZE_PX) ?? "14px";
  style.fontWeight = node.weight === "bold" ? "700" : "400";
  style.color = str(node.color) ?? "#111111";
  style.textAlign = node.align === "end" ? "right" : node.align === "center" ? "center" : "left";
  if (node.style === "italic") style.fontStyle = "italic";
  if (node.decoration === "underline" || node.decoration === "line-through") style.textDecoration = node.decoration;
  const maxLines = num(node.maxLines);
  if (node.wrap === true) {
    style.whiteSpace = "pre-wrap";
    style.overflowWrap = "anywhere";
    if (maxLines && maxLines > 0) {
      style.display = "-webkit-box";
      style.setProperty("-webkit-line-clamp", String(maxLines));
      style.setProperty("-webkit-box-orient", "vertical");
      style.overflow = "hidden";
    }
  } else {
    style.whiteSpace = "nowrap";
    style.overflow = "hidden";
    style.textOverflow = "ellipsis";
  }
  const spans = Array.isArray(node.contents) ? (node.contents as FlexNode[]) : [];
  if (spans.length > 0) {
    for (const span of spans) text.append(renderSpan(span));
  } else {
    text.textContent = str(node.text) ?? "";
  }
  return text;
}

function renderSpan(span: FlexNode): HTMLElement {
  const node = el("span", "flex-span");
  node.textContent = str(span.text) ?? "";
  const size = length(span.size, TEXT_SIZE_PX);
  if (size) node.style.fontSize = size;
  if (span.weight === "bold") node.style.fontWeight = "700";
  if (str(span.color)) node.style.color = str(span.color) ?? "";
  if (span.style === "italic") node.style.fontStyle = "italic";
  if (span.decoration === "underline" || span.decoration === "line-through") node.style.textDecoration = span.decoration;
  return node;
}

function renderButton(node: FlexNode, options: RenderOptions): HTMLElement {
  const action = (typeof node.action === "object" && node.action !== null ? node.action : { type: "unknown" }) as FlexAction;
  const kind = node.style === "primary" || node.style === "secondary" ? node.style : "link";
  const button = el("button", `flex-button flex-button-${kind}`) as HTMLButtonElement;
  button.type = "button";
  button.textContent = action.label ?? "";
  button.dataset.actionType = action.type;
  const color = str(node.color);
  button.style.height = node.height === "sm" ? "40px" : "52px";
  if (kind === "primary") {
    button.style.background = color ?? BUTTON_COLORS.primary;
    button.style.color = "#ffffff";
  } else if (kind === "secondary") {
    button.style.background = color ?? BUTTON_COLORS.secondary;
    button.style.color = "#111111";
  } else {
    button.style.color = color ?? BUTTON_COLORS.link;
  }
  if (action.type === "uri" && action.uri) button.title = action.uri;
  button.addEventListener("click", () => options.onAction?.(action));
  return button;
}

function renderSeparator(node: FlexNode, parent: Direction): HTMLElement {
  const line = el("div", "flex-separator");
  const color = str(node.color) ?? "#d4d6da";
  if (parent === "vertical") line.style.borderTop = `1px solid ${color}`;
  else line.style.borderLeft = `1px solid ${color}`;
  line.style.flex = "0 0 auto";
  return line;
}

/** image / icon / video have no picture here: a labelled placeholder of the right shape. */
function renderImagePlaceholder(node: FlexNode): HTMLElement {
  const box = el("div", "flex-image");
  const ratio = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(str(node.aspectRatio) ?? "1:1");
  box.style.aspectRatio = ratio ? `${ratio[1]} / ${ratio[2]}` : "1 / 1";
  const size = str(node.size) ?? "md";
  box.style.width = size === "full" ? "100%" : (length(size, IMAGE_SIZE_PX) ?? "100px");
  box.style.alignSelf = node.align === "start" ? "flex-start" : node.align === "end" ? "flex-end" : "center";
  box.textContent = "image";
  return box;
}

function renderIcon(node: FlexNode): HTMLElement {
  const icon = el("span", "flex-icon");
  const size = length(node.size, ICON_SIZE_PX) ?? "16px";
  icon.style.width = size;
  icon.style.height = size;
  return icon;
}

function renderBox(node: FlexNode, options: RenderOptions): HTMLElement {
  const layout = node.layout === "horizontal" || node.layout === "baseline" ? String(node.layout) : "vertical";
  const direction: Direction = layout === "vertical" ? "vertical" : "horizontal";
  const box = el("div", `flex-box flex-${layout}`);
  const style = box.style;
  style.display = "flex";
  style.flexDirection = direction === "vertical" ? "column" : "row";
  style.alignItems = layout === "baseline" ? "baseline" : layout === "horizontal" ? "stretch" : "stretch";
  const justify = str(node.justifyContent);
  if (justify) style.justifyContent = justify;
  const align = str(node.alignItems);
  if (align && layout !== "baseline") style.alignItems = align;
  const background = str(node.backgroundColor);
  if (background) style.background = background;
  const padding = length(node.paddingAll, SPACING_PX);
  if (padding) style.padding = padding;
  for (const side of ["Top", "Bottom", "Start", "End"] as const) {
    const value = length(node[`padding${side}`], SPACING_PX);
    if (!value) continue;
    const cssSide = side === "Start" ? "Left" : side === "End" ? "Right" : side;
    style.setProperty(`padding-${cssSide.toLowerCase()}`, value);
  }
  const radius = length(node.cornerRadius, SPACING_PX);
  if (radius) style.borderRadius = radius;
  const borderColor = str(node.borderColor);
  if (borderColor) style.border = `${length(node.borderWidth, { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 }) ?? "1px"} solid ${borderColor}`;
  const width = str(node.width);
  if (width) style.width = width;
  const height = str(node.height);
  if (height) style.height = height;

  const spacing = length(node.spacing, SPACING_PX);
  const children = Array.isArray(node.contents) ? (node.contents as FlexNode[]) : [];
  children.forEach((child, index) => {
    const rendered = renderComponent(child, options, direction);
    // A filler takes space of its own; spacing is not put around it (LINE skips fillers).
    applyMargin(rendered, child, direction, index === 0, child.type === "filler" ? undefined : spacing);
    if (child.type !== "separator") applyFlex(rendered, child, direction);
    box.append(rendered);
  });
  return box;
}

function renderComponent(node: FlexNode, options: RenderOptions, parent: Direction): HTMLElement {
  switch (node.type) {
    case "box":
      return renderBox(node, options);
    case "text":
      return renderText(node);
    case "button":
      return renderButton(node, options);
    case "separator":
      return renderSeparator(node, parent);
    case "filler": {
      const filler = el("div", "flex-filler");
      filler.style.flexGrow = String(num(node.flex) ?? 1);
      return filler;
    }
    case "image":
    case "video":
      return renderImagePlaceholder(node);
    case "icon":
      return renderIcon(node);
    default: {
      const unknown = el("div", "flex-unknown");
      unknown.textContent = `[${String(node.type ?? "?")}]`;
      return unknown;
    }
  }
}

export function renderBubble(bubble: FlexNode, options: RenderOptions = {}): HTMLElement {
  const root = el("div", "flex-bubble");
  root.style.width = `${BUBBLE_WIDTH_PX[str(bubble.size) ?? "mega"] ?? BUBBLE_WIDTH_PX.mega}px`;
  const styles = (typeof bubble.styles === "object" && bubble.styles !== null ? bubble.styles : {}) as Record<string, FlexNode>;
  let first = true;
  for (const block of ["header", "hero", "body", "footer"] as const) {
    const content = bubble[block];
    if (typeof content !== "object" || content === null) continue;
    const blockStyle = styles[block] ?? {};
    if (blockStyle.separator === true && !first) {
      const separator = el("div", "flex-separator");
      separator.style.borderTop = `1px solid ${str(blockStyle.separatorColor) ?? "#d4d6da"}`;
      root.append(separator);
    }
    const wrapper = el("div", `flex-block flex-${block}`);
    wrapper.style.padding = BLOCK_PADDING[block] ?? "0px";
    const background = str(blockStyle.backgroundColor);
    if (background) wrapper.style.background = background;
    const rendered =
      block === "hero" ? renderComponent(content as FlexNode, options, "vertical") : renderBox(content as FlexNode, options);
    wrapper.append(rendered);
    root.append(wrapper);
    first = false;
  }
  return root;
}

/** A Flex message (`{type: "flex", altText, contents}`), or its contents (bubble or carousel). */
export function renderFlexMessage(message: FlexNode, options: RenderOptions = {}): HTMLElement {
  const contents = message.type === "flex" ? (message.contents as FlexNode) : message;
  if (contents?.type === "carousel") {
    const carousel = el("div", "flex-carousel");
    for (const bubble of Array.isArray(contents.contents) ? (contents.contents as FlexNode[]) : []) {
      carousel.append(renderBubble(bubble, options));
    }
    return carousel;
  }
  if (contents?.type === "bubble") return renderBubble(contents, options);
  const unknown = el("div", "flex-unknown");
  unknown.textContent = str(message.altText) ?? "[flex]";
  return unknown;
}
