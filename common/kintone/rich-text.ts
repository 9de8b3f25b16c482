/**
 * RICH_TEXT values are HTML. This turns them into plain text without a DOM (the relay has none):
 * line breaks where the HTML breaks lines, tags dropped, common entities decoded, whitespace
 * collapsed. Good enough for a notification line and for `contains` conditions, not a sanitiser.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ensp: " ",
  emsp: " ",
  thinsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  middot: "·",
  bull: "•",
  copy: "©",
  reg: "®",
  trade: "™",
  yen: "¥",
  euro: "€",
  times: "×",
  divide: "÷",
};

const BLOCK_BREAK =
  /<\s*(?:br\s*\/?|\/\s*(?:p|div|li|h[1-6]|tr|blockquote|pre|ul|ol|table)\s*)>|<\s*(?:p|div|li|h[1-6]|tr|blockquote|pre|ul|ol|table)(?:\s[^>]*)?>/gi;

function decodeEntity(entity: string, body: string): string {
  if (body.startsWith("#")) {
    const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return entity;
    return String.fromCodePoint(code);
  }
  return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
}

/** HTML -> plain text: block ends and <br> become "\n", tags go, entities are decoded. */
export function richTextToPlain(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/\s+/g, " ") // source line breaks are just spaces in HTML
    .replace(BLOCK_BREAK, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (entity, body: string) => decodeEntity(entity, body));
  return text
    .split("\n")
    .map((line) => line.replace(/[ \t\u00a0]+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
}
