/** Small text helpers for staying inside LINE's character limits without breaking characters. */

export const ELLIPSIS = "…";

/**
 * At most `max` UTF-16 code units (the strictest way to count), ending in "…" when cut, never
 * splitting a surrogate pair. Counting code units also keeps us inside a limit counted in code
 * points, which is never larger.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return "";
  let cut = max - ELLIPSIS.length;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1; // do not keep half a pair
  return text.slice(0, Math.max(0, cut)) + ELLIPSIS;
}

/**
 * Line breaks as "\n", other control characters dropped (they only cost bytes as \u00XX escapes
 * and show nothing), tabs as spaces.
 */
export function cleanText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, "\n")
      .replace(/\t/g, " ")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, "")
  );
}

/** Whitespace runs (line breaks too) as one space: for one-line texts such as altText. */
export function singleLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const encoder = new TextEncoder();

/** Size in bytes of a value's JSON, as LINE measures a bubble. */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}
