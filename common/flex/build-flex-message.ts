/**
 * The Flex message for one rule and one record: what the relay pushes and what the settings page
 * previews. One bubble:
 *
 *   header  title (rule.message.title rendered; bold, lg)
 *   body    "Approve: Submitted → Approved"
 *           ─────────
 *           label   value        one row per rule.message.fields entry
 *           …                    when rows had to be dropped to fit
 *   footer  [button] per rule button (postback), [Open in kintone] (uri) when recordUrl is given
 *           and the rule wants it (recordLink; by default only staff rules: customers cannot open kintone)
 *
 * Every text of its own (the link label, the alt text fallback, dates) is in `locale`, from the
 * relay-text catalogue (common/i18n/relay-texts.ts) with the rule set's overrides.
 *
 * Long data never makes it throw: every text is capped, and if the bubble is still over LINE's
 * 30 KB the row values are shortened, then rows dropped from the end. It throws FlexBuildError
 * only for caller bugs (postback data over 300 characters).
 */
import { EMPTY_VALUE_TEXT, formatFieldValue } from "../kintone/format-field-value.js";
import type { FieldProperties, KintoneRecord, StatusChange } from "../kintone/record.js";
import type { Button, Rule } from "../rules/rule-set.js";
import { relayTexts, type TextOverrides } from "../i18n/relay-texts.js";
import type { FlexBox, FlexBubble, FlexButton, FlexComponent, FlexMessage, FlexText } from "./flex-types.js";
import { FLEX_LIMITS } from "./flex-limits.js";
import { renderTemplate } from "./render-template.js";
import { ELLIPSIS, cleanText, jsonByteLength, singleLine, truncateText } from "./text.js";

export interface FlexBuildInput {
  rule: Rule;
  record: KintoneRecord;
  /** Labels from the form fields API. */
  fields: FieldProperties;
  /** action, status, nextStatus. */
  change: StatusChange;
  /** When given and the rule wants a link (recordWantsLink): an "Open in kintone" URI button. */
  recordUrl?: string;
  /** The relay passes a signed token; the settings-page preview passes a dummy. <= 300 chars. */
  postbackData: (button: Button) => string;
  /** e.g. "Asia/Tokyo". */
  timeZone: string;
  /** The rule set's language: labels such as "Open in kintone" / "kintoneで開く", dates; default "en". */
  locale?: "ja" | "en";
  /** The rule set's own wording (`texts`). */
  texts?: TextOverrides;
}

/** recordLink when set; otherwise on for staff rules only (a customer cannot open kintone). */
export function recordWantsLink(rule: Rule): boolean {
  return rule.message.recordLink ?? rule.audience === "staff";
}

export class FlexBuildError extends Error {
  override readonly name = "FlexBuildError";
  constructor(
    message: string,
    readonly code: "POSTBACK_DATA_TOO_LONG" | "POSTBACK_DATA_NOT_STRING",
    readonly buttonId: string,
  ) {
    super(message);
  }
}

/** Caps per text, in UTF-16 code units. */
export const FLEX_TEXT_CAPS = {
  title: 400,
  statusLine: 200,
  rowLabel: 40,
  rowValue: 500,
} as const;

/** Tried in turn when the bubble is over the byte limit, before rows are dropped. */
const SMALLEST_VALUE_CAP = 80;
const SHRINKING_VALUE_CAPS = [FLEX_TEXT_CAPS.rowValue, 200, SMALLEST_VALUE_CAP] as const;

// WCAG AA on white (4.5:1) for small text, on the phone and in the settings preview alike.
const COLOR_MUTED = "#6b6b6b";
const COLOR_LABEL = "#767676";
/** A darker LINE green for primary buttons: white on it is 5.5:1 (LINE's default green is 2.3:1). */
const COLOR_BUTTON = "#047a32";
const COLOR_VALUE = "#333333";

/** A text that is never empty (LINE refuses ""), cleaned and capped. */
function textOf(raw: string, cap: number): string {
  const text = truncateText(cleanText(raw).trim(), cap);
  return text === "" ? EMPTY_VALUE_TEXT : text;
}

function statusLine(change: StatusChange): string {
  const action = singleLine(change.action);
  const from = singleLine(change.status);
  const to = singleLine(change.nextStatus);
  const move = from === to || to === "" ? from : from === "" ? to : `${from} → ${to}`;
  if (action === "") return move;
  return move === "" ? action : `${action}: ${move}`;
}

interface Row {
  label: string;
  value: string; // cleaned, not yet capped
}

function rowComponent(row: Row, valueCap: number): FlexBox {
  return {
    type: "box",
    layout: "baseline",
    spacing: "sm",
    contents: [
      { type: "text", text: textOf(row.label, FLEX_TEXT_CAPS.rowLabel), size: "sm", color: COLOR_LABEL, flex: 2, wrap: true },
      { type: "text", text: textOf(row.value, valueCap), size: "sm", color: COLOR_VALUE, flex: 5, wrap: true },
    ],
  };
}

const moreRowsMarker: FlexText = { type: "text", text: ELLIPSIS, size: "sm", color: COLOR_LABEL };

/** An absolute http(s) URL within LINE's limit, or undefined (then there is no link button). */
function usableRecordUrl(recordUrl: string | undefined): string | undefined {
  if (!recordUrl) return undefined;
  let url: URL;
  try {
    url = new URL(recordUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  return url.href.length <= FLEX_LIMITS.uri ? url.href : undefined;
}

function postbackButton(button: Button, data: string): FlexButton {
  const label = truncateText(singleLine(button.label), FLEX_LIMITS.actionLabel) || truncateText(button.id, FLEX_LIMITS.actionLabel);
  return {
    type: "button",
    style: "primary",
    color: COLOR_BUTTON,
    height: "sm",
    action: { type: "postback", label, data, displayText: truncateText(label, FLEX_LIMITS.displayText) },
  };
}

function postbackDataFor(input: FlexBuildInput, button: Button): string {
  const data: unknown = input.postbackData(button);
  if (typeof data !== "string") {
    throw new FlexBuildError(`postbackData for button "${button.id}" must return a string`, "POSTBACK_DATA_NOT_STRING", button.id);
  }
  if (data.length > FLEX_LIMITS.postbackData) {
    throw new FlexBuildError(
      `postback data for button "${button.id}" is ${data.length} characters; LINE allows at most ${FLEX_LIMITS.postbackData}`,
      "POSTBACK_DATA_TOO_LONG",
      button.id,
    );
  }
  return data;
}

export function buildFlexMessage(input: FlexBuildInput): FlexMessage {
  const { rule, record, fields, change, timeZone } = input;
  const locale = input.locale === "ja" ? "ja" : "en"; // anything else (from plain JS callers) is "en"
  const texts = relayTexts(locale, input.texts);

  // Postback data first: a caller bug should surface before any other work.
  const buttons: FlexButton[] = rule.buttons.map((b) => postbackButton(b, postbackDataFor(input, b)));
  const uri = recordWantsLink(rule) ? usableRecordUrl(input.recordUrl) : undefined;
  if (uri) {
    buttons.push({
      type: "button",
      style: "link",
      height: "sm",
      action: { type: "uri", label: truncateText(singleLine(texts.openInKintone), FLEX_LIMITS.actionLabel), uri },
    });
  }

  const renderedTitle = renderTemplate(rule.message.title, record, { timeZone, fields, locale });
  const header: FlexBox = {
    type: "box",
    layout: "vertical",
    contents: [{ type: "text", text: textOf(renderedTitle, FLEX_TEXT_CAPS.title), weight: "bold", size: "lg", wrap: true }],
  };

  const rows: Row[] = rule.message.fields.map((code) => {
    const property = Object.hasOwn(fields, code) ? fields[code] : undefined;
    const field = Object.hasOwn(record, code) ? record[code] : undefined;
    return {
      label: typeof property?.label === "string" && property.label.trim() !== "" ? property.label : code,
      value: cleanText(formatFieldValue(field, { timeZone, locale, fieldProperty: property })),
    };
  });

  const bubbleWith = (rowContents: FlexComponent[]): FlexBubble => {
    const bodyContents: FlexComponent[] = [
      { type: "text", text: textOf(statusLine(change), FLEX_TEXT_CAPS.statusLine), size: "sm", color: COLOR_MUTED, wrap: true },
    ];
    if (rowContents.length > 0) {
      bodyContents.push({ type: "separator", margin: "md" });
      bodyContents.push({ type: "box", layout: "vertical", spacing: "sm", margin: "md", contents: rowContents });
    }
    const bubble: FlexBubble = {
      type: "bubble",
      header,
      body: { type: "box", layout: "vertical", contents: bodyContents },
    };
    if (buttons.length > 0) bubble.footer = { type: "box", layout: "vertical", spacing: "sm", contents: buttons };
    return bubble;
  };

  const fits = (bubble: FlexBubble): boolean => jsonByteLength(bubble) <= FLEX_LIMITS.bubbleBytes;

  let bubble: FlexBubble | undefined;
  for (const cap of SHRINKING_VALUE_CAPS) {
    const candidate = bubbleWith(rows.map((r) => rowComponent(r, cap)));
    if (fits(candidate)) {
      bubble = candidate;
      break;
    }
  }
  if (!bubble) {
    // Still too big at the smallest cap: drop rows from the end, say so with a last "…" row.
    // Size grows with the number of rows kept, so binary-search the most that fit.
    const components = rows.map((r) => rowComponent(r, SMALLEST_VALUE_CAP));
    const keeping = (n: number): FlexBubble => bubbleWith([...components.slice(0, n), moreRowsMarker]);
    let lo = 0; // fits (every text is capped, so the bubble without rows is far below the limit)
    let hi = components.length - 1; // the most that could be kept with the marker
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(keeping(mid))) lo = mid;
      else hi = mid - 1;
    }
    bubble = keeping(lo);
  }

  const altSource = singleLine(cleanText(renderedTitle));
  const altText = truncateText(altSource === "" ? texts.altTextFallback : altSource, FLEX_LIMITS.altText);
  return { type: "flex", altText, contents: bubble };
}
