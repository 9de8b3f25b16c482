/**
 * The Flex Message objects this project emits, as the official LINE types (`@line/bot-sdk`'s
 * `messagingApi`, generated from LINE's OpenAPI spec). Each alias is the SDK type narrowed to what
 * the builder promises: only the components it uses, texts and labels always present, sizes and
 * spacings as keywords (they render the same on every phone). The checks at the end make any
 * drift from the SDK a compile error.
 *
 * Type-only: the plugin's settings page bundles the builder, and nothing of the SDK may come with it.
 */
import type { messagingApi } from "@line/bot-sdk";

/** Text sizes as keywords (FlexText.size accepts px too; we never use it). */
export type FlexTextSize = "xxs" | "xs" | "sm" | "md" | "lg" | "xl" | "xxl" | "3xl" | "4xl" | "5xl";
/** Spacing, margin and padding keywords (the SDK types them as string). */
export type FlexSpacing = "none" | "xs" | "sm" | "md" | "lg" | "xl" | "xxl";

/** label <= 40 characters on a Flex button; data <= 300; displayText <= 300. */
export type FlexPostbackAction = messagingApi.PostbackAction & { label: string; data: string };

/** uri <= 1000 characters; http, https, line or tel. */
export type FlexUriAction = messagingApi.URIAction & { label: string; uri: string };

export type FlexAction = FlexPostbackAction | FlexUriAction;

/** `text` is never empty: LINE refuses an empty text (the SDK makes it optional for spans). */
export type FlexText = messagingApi.FlexText & { text: string; size?: FlexTextSize; margin?: FlexSpacing };

export type FlexButton = Omit<messagingApi.FlexButton, "action"> & { action: FlexAction; margin?: FlexSpacing };

export type FlexSeparator = messagingApi.FlexSeparator & { margin?: FlexSpacing };

export type FlexComponent = FlexBox | FlexText | FlexButton | FlexSeparator;

export type FlexBox = Omit<messagingApi.FlexBox, "contents"> & {
  contents: FlexComponent[];
  spacing?: FlexSpacing;
  margin?: FlexSpacing;
  paddingAll?: FlexSpacing;
};

export type FlexBubble = Omit<messagingApi.FlexBubble, "header" | "hero" | "body" | "footer"> & {
  header?: FlexBox;
  body?: FlexBox;
  footer?: FlexBox;
};

/** One bubble; altText <= 1500 characters, not empty. */
export type FlexMessage = Omit<messagingApi.FlexMessage, "contents"> & { contents: FlexBubble };

// What we build must be what LINE's types accept: these fail to compile when the SDK changes.
type Assignable<T extends U, U> = [T, U];
export type FlexTypeChecks = [
  Assignable<FlexAction, messagingApi.Action>,
  Assignable<FlexComponent, messagingApi.FlexComponent>,
  Assignable<FlexBox, messagingApi.FlexBox>,
  Assignable<FlexBubble, messagingApi.FlexContainer>,
  Assignable<FlexMessage, messagingApi.Message>,
];
