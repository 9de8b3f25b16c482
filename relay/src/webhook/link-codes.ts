import { randomInt } from "node:crypto";

/** No 0/O, 1/I/L: a code read aloud or typed on a phone is not mistaken. */
export const LINK_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const LINK_CODE_LENGTH = 8;
export const LINK_CODE_TTL_MS = 10 * 60_000;
export const LINK_MISS_WINDOW_MS = 15 * 60_000;
export const LINK_MISS_LIMIT = 5;

/** 8 characters from 31: about 40 bits; with 5 guesses per 15 minutes per user, guessing is hopeless. */
export function newLinkCode(): string {
  let code = "";
  for (let i = 0; i < LINK_CODE_LENGTH; i++) code += LINK_CODE_ALPHABET[randomInt(LINK_CODE_ALPHABET.length)];
  return code;
}

/** Shown as ABCD-EFGH; accepted with or without the hyphen, spaces, lower case. */
export const displayLinkCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

export function normalizeLinkCodeInput(text: string): string | undefined {
  const compact = text.replace(/[\s-]/g, "").toUpperCase();
  if (compact.length !== LINK_CODE_LENGTH) return undefined;
  return [...compact].every((ch) => LINK_CODE_ALPHABET.includes(ch)) ? compact : undefined;
}
