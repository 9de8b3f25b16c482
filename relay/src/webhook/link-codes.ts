import { randomInt } from "node:crypto";

/** No 0/O, 1/I/L: a code read aloud or typed on a phone is not mistaken. */
export const LINK_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const LINK_CODE_LENGTH = 8;
export const LINK_CODE_TTL_MS = 10 * 60_000;
export const LINK_MISS_WINDOW_MS = 15 * 60_000;
export const LINK_MISS_LIMIT = 5;

const DIGIT = /[2-9]/;

/**
 * 8 characters from 31, at least one of them a digit: about 39.5 bits; with 5 guesses per 15
 * minutes per user, guessing is hopeless. The digit is what tells a code from a chat message:
 * "THURSDAY" or "hey there" has the code's length and alphabet, but no digit.
 */
export function newLinkCode(): string {
  for (;;) {
    let code = "";
    for (let i = 0; i < LINK_CODE_LENGTH; i++) code += LINK_CODE_ALPHABET[randomInt(LINK_CODE_ALPHABET.length)];
    if (DIGIT.test(code)) return code;
  }
}

/** Shown as ABCD-EFGH; accepted with or without the hyphen (or one space), any case, full-width too. */
export const displayLinkCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/** Dashes a Japanese keyboard may give for "-": katakana long vowel mark, hyphens, minus signs. */
const DASHES = /[\u2010-\u2015\u2212\u30fc\uff70]/g;
const CODE_SHAPE = /^([0-9A-Z]{4})[-\s]?([0-9A-Z]{4})$/;

/**
 * The code in a text message, or undefined when the text does not look like one: after trimming
 * and NFKC (full-width letters, digits, spaces and hyphens become ASCII), four and four
 * characters of the code alphabet, at most one hyphen or space between them, at least one digit.
 * Anything else is ordinary chat and does not count as a try.
 */
export function normalizeLinkCodeInput(text: string): string | undefined {
  const shape = CODE_SHAPE.exec(text.normalize("NFKC").replace(DASHES, "-").trim().toUpperCase());
  if (!shape) return undefined;
  const compact = `${shape[1]}${shape[2]}`;
  if (!DIGIT.test(compact)) return undefined;
  return [...compact].every((ch) => LINK_CODE_ALPHABET.includes(ch)) ? compact : undefined;
}
