/** kintone users as the admin types them on the settings page: login names, in a line of text. */

/** Login names as typed: separated by commas (half- or full-width), 「、」 or white space; each once. */
export function parseUserCodes(text: string): string[] {
  return [...new Set(text.split(/[,，、\s]+/).map((s) => s.trim()).filter((s) => s !== ""))];
}
