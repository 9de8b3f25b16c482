/**
 * The Flex Message objects this project emits: a minimal, exact subset of the LINE Messaging API
 * spec (../contracts/line-openapi/messaging-api.yml: FlexMessage, FlexBubble, FlexBox, FlexText,
 * FlexButton, FlexSeparator, PostbackAction, URIAction). Property names are the spec's; only the
 * properties we use are declared, so anything built with these types stays inside the spec.
 */

/** Text sizes as keywords (FlexTextFontSize); never px. */
export type FlexTextSize = "xxs" | "xs" | "sm" | "md" | "lg" | "xl" | "xxl" | "3xl" | "4xl" | "5xl";
/** Spacing, margin and padding keywords (FlexBoxSpacing, FlexMargin, FlexBoxPadding). */
export type FlexSpacing = "none" | "xs" | "sm" | "md" | "lg" | "xl" | "xxl";

export interface FlexPostbackAction {
  type: "postback";
  /** <= 40 characters on a Flex button. */
  label: string;
  /** <= 300 characters. */
  data: string;
  /** <= 300 characters; shown in the chat as the user's message. */
  displayText?: string;
}

export interface FlexUriAction {
  type: "uri";
  label: string;
  /** <= 1000 characters; http, https, line or tel. */
  uri: string;
}

export type FlexAction = FlexPostbackAction | FlexUriAction;

export interface FlexText {
  type: "text";
  /** Never empty: LINE refuses an empty text. */
  text: string;
  size?: FlexTextSize;
  weight?: "regular" | "bold";
  color?: string;
  wrap?: boolean;
  flex?: number;
  margin?: FlexSpacing;
  align?: "start" | "end" | "center";
  maxLines?: number;
}

export interface FlexButton {
  type: "button";
  action: FlexAction;
  style?: "primary" | "secondary" | "link";
  height?: "sm" | "md";
  color?: string;
  margin?: FlexSpacing;
  flex?: number;
}

export interface FlexSeparator {
  type: "separator";
  margin?: FlexSpacing;
  color?: string;
}

export type FlexComponent = FlexBox | FlexText | FlexButton | FlexSeparator;

export interface FlexBox {
  type: "box";
  layout: "horizontal" | "vertical" | "baseline";
  contents: FlexComponent[];
  spacing?: FlexSpacing;
  margin?: FlexSpacing;
  paddingAll?: FlexSpacing;
  backgroundColor?: string;
  flex?: number;
}

export interface FlexBubble {
  type: "bubble";
  size?: "nano" | "micro" | "deca" | "hecto" | "kilo" | "mega" | "giga";
  header?: FlexBox;
  body?: FlexBox;
  footer?: FlexBox;
}

export interface FlexMessage {
  type: "flex";
  /** <= 1500 characters, not empty. */
  altText: string;
  contents: FlexBubble;
}

/** LINE's limits that the builder keeps (platform-facts.md, "Flex Message limits"). */
export const FLEX_LIMITS = {
  altText: 1500,
  actionLabel: 40,
  postbackData: 300,
  displayText: 300,
  uri: 1000,
  /** Bubble JSON <= 30 KB; kept at 30,000 UTF-8 bytes to stay clear of either reading of "KB". */
  bubbleBytes: 30_000,
} as const;
