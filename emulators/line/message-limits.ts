import type { JsonSchema } from "./contract/line-contract-types.js";
import { joinPath, type ValidationIssue } from "./schema-validator.js";

/**
 * Limits that LINE documents (https://developers.line.biz/en/reference/messaging-api/) but that
 * the contract generated from @line/bot-sdk's types cannot carry: TypeScript has no array sizes,
 * string lengths, integers or URI formats.
 *
 * SCHEMA_LIMITS are laid onto the contract's definitions ("Definition.property", "[]" for the
 * items of an array) and checked by the schema validator; `npm run check:line-contract` holds each
 * one against LINE's OpenAPI spec. The walk below (LIMITS) covers what depends on context (a
 * button's label, a bubble's size in bytes, URI schemes) and is checked after the schema. Every
 * walk is defensive: shapes the schema already rejected are skipped here, not reported twice.
 */
export type SchemaLimit = Pick<JsonSchema, "minItems" | "maxItems" | "minLength" | "maxLength" | "pattern" | "format"> & {
  type?: "integer";
};

export const SCHEMA_LIMITS: Readonly<Record<string, SchemaLimit>> = {
  // Send push / reply / multicast message, validate message objects: 1 to 5 messages; multicast to 1 to 500 users.
  "PushMessageRequest.messages": { minItems: 1, maxItems: 5 },
  "ReplyMessageRequest.messages": { minItems: 1, maxItems: 5 },
  "MulticastRequest.messages": { minItems: 1, maxItems: 5 },
  "ValidateMessageRequest.messages": { minItems: 1, maxItems: 5 },
  "MulticastRequest.to": { minItems: 1, maxItems: 500 },
  "MulticastRequest.customAggregationUnits": { maxItems: 1 },
  "MulticastRequest.customAggregationUnits[]": { minLength: 1, maxLength: 30, pattern: "^[a-zA-Z0-9_]{1,30}$" },
  // Common properties: quick reply (#items-object: up to 13 buttons), sender (#icon-nickname-switch).
  "QuickReply.items": { maxItems: 13 },
  "QuickReplyItem.imageUrl": { maxLength: 2000, format: "uri" },
  "Sender.name": { maxLength: 20 },
  "Sender.iconUrl": { maxLength: 2000, format: "uri" },
  // Actions (#action-objects).
  "PostbackAction.data": { minLength: 0, maxLength: 300 },
  "DatetimePickerAction.data": { minLength: 0, maxLength: 300 },
  "RichMenuSwitchAction.data": { minLength: 0, maxLength: 300 },
  "RichMenuSwitchAction.richMenuAliasId": { minLength: 0, maxLength: 32 },
  "ClipboardAction.clipboardText": { minLength: 1, maxLength: 1000 },
  "ClipboardImagemapAction.clipboardText": { minLength: 1, maxLength: 1000 },
  "URIAction.uri": { format: "uri" },
  "AltUri.desktop": { minLength: 0, maxLength: 1000 },
  // Flex Message elements (#flex-message-elements): flex and maxLines are integers; URLs are URLs.
  "FlexBox.flex": { type: "integer" },
  "FlexButton.flex": { type: "integer" },
  "FlexFiller.flex": { type: "integer" },
  "FlexImage.flex": { type: "integer" },
  "FlexText.flex": { type: "integer" },
  "FlexText.maxLines": { type: "integer" },
  "FlexIcon.url": { format: "uri" },
  "FlexImage.url": { format: "uri" },
  "FlexVideo.url": { format: "uri" },
  "FlexVideo.previewUrl": { format: "uri" },
  // Message objects (#message-objects).
  "AudioMessage.originalContentUrl": { format: "uri" },
  "AudioMessage.duration": { type: "integer" },
  "ImageMessage.originalContentUrl": { format: "uri" },
  "ImageMessage.previewImageUrl": { format: "uri" },
  "VideoMessage.originalContentUrl": { format: "uri" },
  "VideoMessage.previewImageUrl": { format: "uri" },
  "CouponMessage.deliveryTag": { maxLength: 30 },
  "Emoji.index": { type: "integer" },
  "ImagemapMessage.baseUrl": { format: "uri" },
  "ImagemapArea.x": { type: "integer" },
  "ImagemapArea.y": { type: "integer" },
  "ImagemapArea.width": { type: "integer" },
  "ImagemapArea.height": { type: "integer" },
  "ImagemapBaseSize.width": { type: "integer" },
  "ImagemapBaseSize.height": { type: "integer" },
  "ImagemapExternalLink.linkUri": { format: "uri" },
  "ImagemapVideo.originalContentUrl": { format: "uri" },
  "ImagemapVideo.previewImageUrl": { format: "uri" },
  // Template messages (#template-messages).
  "ButtonsTemplate.thumbnailImageUrl": { format: "uri" },
  "CarouselColumn.thumbnailImageUrl": { format: "uri" },
  "ImageCarouselColumn.imageUrl": { format: "uri" },
};

export const LIMITS = {
  textLength: 5000,
  flexAltText: 1500,
  templateAltText: 400,
  bubbleBytes: 30 * 1024,
  carouselBytes: 50 * 1024,
  carouselBubbles: 12,
  flexButtonLabel: 40,
  quickReplyLabel: 20,
  templateLabel: 20,
  imageCarouselLabel: 12,
  actionText: 300,
  uriLength: 1000,
  imageUrlLength: 2000,
} as const;

const URI_SCHEMES = new Set(["http:", "https:", "line:", "tel:"]);
const PUSH_TARGET = /^[UCR][0-9a-fA-F]{32}$/;
const USER_ID = /^U[0-9a-fA-F]{32}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

class LimitChecker {
  readonly issues: ValidationIssue[] = [];

  private add(property: string, message: string): void {
    this.issues.push({ property, message, kind: "limit" });
  }

  private maxLength(value: unknown, path: string, max: number, min = 0): void {
    if (typeof value !== "string") return;
    if (value.length > max || value.length < min) this.add(path, `size must be between ${min} and ${max}`);
  }

  private requireString(owner: Json, key: string, path: string): boolean {
    const value = owner[key];
    if (value === undefined || value === null) {
      this.add(joinPath(path, key), "must be specified");
      return false;
    }
    if (typeof value === "string" && value.length === 0) {
      this.add(joinPath(path, key), "may not be empty");
      return false;
    }
    return typeof value === "string";
  }

  uri(value: unknown, path: string): void {
    if (typeof value !== "string") return;
    if (value.length > LIMITS.uriLength) {
      this.add(path, `size must be between 0 and ${LIMITS.uriLength}`);
      return;
    }
    let scheme: string;
    try {
      scheme = new URL(value).protocol;
    } catch {
      this.add(path, "invalid uri");
      return;
    }
    if (!URI_SCHEMES.has(scheme)) this.add(path, "invalid uri scheme");
  }

  private httpsUrl(value: unknown, path: string): void {
    if (typeof value !== "string") return;
    if (value.length > LIMITS.imageUrlLength) {
      this.add(path, `size must be between 0 and ${LIMITS.imageUrlLength}`);
      return;
    }
    if (!URL.canParse(value) || new URL(value).protocol !== "https:") this.add(path, "must be an https URL");
  }

  /** `label`: null when the context does not constrain the label. */
  action(action: unknown, path: string, label: { required: boolean; max: number } | null): void {
    if (!isObject(action)) return;
    if (label) {
      if (label.required) this.requireString(action, "label", path);
      this.maxLength(action.label, joinPath(path, "label"), label.max);
    }
    switch (action.type) {
      case "postback":
        this.maxLength(action.data, joinPath(path, "data"), LIMITS.actionText);
        this.maxLength(action.displayText, joinPath(path, "displayText"), LIMITS.actionText);
        this.maxLength(action.text, joinPath(path, "text"), LIMITS.actionText);
        break;
      case "message":
        if (this.requireString(action, "text", path)) this.maxLength(action.text, joinPath(path, "text"), LIMITS.actionText);
        break;
      case "uri":
        if (this.requireString(action, "uri", path)) this.uri(action.uri, joinPath(path, "uri"));
        if (isObject(action.altUri)) this.uri(action.altUri.desktop, joinPath(joinPath(path, "altUri"), "desktop"));
        break;
      case "datetimepicker":
        this.requireString(action, "data", path);
        this.requireString(action, "mode", path);
        break;
    }
  }

  message(message: unknown, path: string): void {
    if (!isObject(message)) return;
    switch (message.type) {
      case "text":
      case "textV2":
        if (this.requireString(message, "text", path)) this.maxLength(message.text, joinPath(path, "text"), LIMITS.textLength, 1);
        break;
      case "flex":
        if (this.requireString(message, "altText", path)) {
          this.maxLength(message.altText, joinPath(path, "altText"), LIMITS.flexAltText, 1);
        }
        this.flexContainer(message.contents, joinPath(path, "contents"));
        break;
      case "template":
        if (this.requireString(message, "altText", path)) {
          this.maxLength(message.altText, joinPath(path, "altText"), LIMITS.templateAltText, 1);
        }
        this.template(message.template, joinPath(path, "template"));
        break;
    }
    const quickReply = message.quickReply;
    if (isObject(quickReply) && Array.isArray(quickReply.items)) {
      quickReply.items.forEach((item, index) => {
        if (!isObject(item)) return;
        const itemPath = joinPath(joinPath(joinPath(path, "quickReply"), "items"), index);
        if (item.action === undefined) this.add(joinPath(itemPath, "action"), "must be specified");
        this.action(item.action, joinPath(itemPath, "action"), { required: true, max: LIMITS.quickReplyLabel });
      });
    }
  }

  private flexContainer(container: unknown, path: string): void {
    if (!isObject(container)) return;
    if (container.type === "bubble") {
      this.bubble(container, path);
      return;
    }
    if (container.type !== "carousel" || !Array.isArray(container.contents)) return;
    const bubbles = container.contents;
    const contentsPath = joinPath(path, "contents");
    if (bubbles.length < 1 || bubbles.length > LIMITS.carouselBubbles) {
      this.add(contentsPath, `size must be between 1 and ${LIMITS.carouselBubbles}`);
    }
    if (jsonBytes(container) > LIMITS.carouselBytes) {
      this.add(path, `carousel JSON must be at most ${LIMITS.carouselBytes} bytes`);
    }
    const sizes = new Set(bubbles.map((bubble) => (isObject(bubble) && bubble.size) || "mega"));
    if (sizes.size > 1) this.add(contentsPath, "bubbles of different sizes can't be used in one carousel");
    bubbles.forEach((bubble, index) => this.bubble(bubble, joinPath(contentsPath, index)));
  }

  private bubble(bubble: unknown, path: string): void {
    if (!isObject(bubble)) return;
    if (jsonBytes(bubble) > LIMITS.bubbleBytes) this.add(path, `bubble JSON must be at most ${LIMITS.bubbleBytes} bytes`);
    for (const block of ["header", "hero", "body", "footer"]) this.component(bubble[block], joinPath(path, block));
    this.action(bubble.action, joinPath(path, "action"), null);
  }

  private component(component: unknown, path: string): void {
    if (!isObject(component)) return;
    const actionPath = joinPath(path, "action");
    switch (component.type) {
      case "box":
        if (Array.isArray(component.contents)) {
          component.contents.forEach((child, index) => this.component(child, joinPath(joinPath(path, "contents"), index)));
        }
        this.action(component.action, actionPath, null);
        break;
      case "button":
        this.action(component.action, actionPath, { required: true, max: LIMITS.flexButtonLabel });
        break;
      case "image":
      case "icon":
        this.httpsUrl(component.url, joinPath(path, "url"));
        this.action(component.action, actionPath, null);
        break;
      case "video":
        this.httpsUrl(component.url, joinPath(path, "url"));
        this.httpsUrl(component.previewUrl, joinPath(path, "previewUrl"));
        this.component(component.altContent, joinPath(path, "altContent"));
        this.action(component.action, actionPath, null);
        break;
      case "text": {
        const hasSpans = Array.isArray(component.contents) && component.contents.length > 0;
        if (!hasSpans) this.requireString(component, "text", path);
        this.action(component.action, actionPath, null);
        break;
      }
    }
  }

  private template(template: unknown, path: string): void {
    if (!isObject(template)) return;
    const actions = (owner: Json, ownerPath: string, min: number, max: number, labelMax: number) => {
      const list = owner.actions;
      if (!Array.isArray(list)) return;
      const listPath = joinPath(ownerPath, "actions");
      if (list.length < min || list.length > max) this.add(listPath, `size must be between ${min} and ${max}`);
      list.forEach((action, index) =>
        this.action(action, joinPath(listPath, index), { required: true, max: labelMax }),
      );
    };
    switch (template.type) {
      case "buttons":
        actions(template, path, 1, 4, LIMITS.templateLabel);
        this.action(template.defaultAction, joinPath(path, "defaultAction"), null);
        break;
      case "confirm":
        actions(template, path, 2, 2, LIMITS.templateLabel);
        break;
      case "carousel":
      case "image_carousel": {
        if (!Array.isArray(template.columns)) return;
        const columnsPath = joinPath(path, "columns");
        if (template.columns.length < 1 || template.columns.length > 10) this.add(columnsPath, "size must be between 1 and 10");
        template.columns.forEach((column, index) => {
          if (!isObject(column)) return;
          const columnPath = joinPath(columnsPath, index);
          if (template.type === "carousel") {
            actions(column, columnPath, 1, 3, LIMITS.templateLabel);
            this.action(column.defaultAction, joinPath(columnPath, "defaultAction"), null);
          } else {
            this.action(column.action, joinPath(columnPath, "action"), { required: false, max: LIMITS.imageCarouselLabel });
          }
        });
        break;
      }
    }
  }
}

/** Documented limits of a `messages` array (its size is the schema's business). */
export function checkMessageLimits(messages: unknown, path = "messages"): ValidationIssue[] {
  const checker = new LimitChecker();
  if (Array.isArray(messages)) messages.forEach((message, index) => checker.message(message, joinPath(path, index)));
  return checker.issues;
}

/** Push goes to one user, group or room ID: U, C or R and 32 hex digits. */
export function isPushTarget(value: unknown): boolean {
  return typeof value === "string" && PUSH_TARGET.test(value);
}

/** Multicast goes to users only. */
export function isUserId(value: unknown): boolean {
  return typeof value === "string" && USER_ID.test(value);
}
