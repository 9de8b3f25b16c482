import { describe, expect, it } from "vitest";
import { approvalMessages } from "../../plugin/src/settings/approval-messages.js";
import { parseUserCodes } from "../../plugin/src/settings/user-codes.js";

/** Keys of a catalogue, functions included, sorted. */
const keys = (catalogue: object) => Object.keys(catalogue).sort();

describe("the settings page's approval texts (approval-editor.ts, approval-note.ts)", () => {
  it("has every key in Japanese and English, and no Japanese entry is the English one", () => {
    const ja = approvalMessages("ja");
    const en = approvalMessages("en");
    expect(keys(ja)).toEqual(keys(en));
    for (const [key, text] of Object.entries(ja)) {
      const english = en[key as keyof typeof en];
      if (typeof text === "string") expect(text, key).not.toBe(english);
      else expect((text as (...args: string[]) => string)("承認する", "承認待ち → 承認済み"), key).not.toBe((english as (...args: string[]) => string)("承認する", "承認待ち → 承認済み"));
    }
    // Japanese brackets are full-width.
    for (const [key, text] of Object.entries(ja)) {
      if (typeof text === "string") expect(text, key).not.toMatch(/[()"“”]/);
    }
  });
});

describe("kintone users typed as login names", () => {
  it("splits on commas (half- and full-width), 「、」 and white space, once each", () => {
    expect(parseUserCodes("sato, suzuki")).toEqual(["sato", "suzuki"]);
    expect(parseUserCodes("sato、suzuki，tanaka\nsato  ")).toEqual(["sato", "suzuki", "tanaka"]);
    expect(parseUserCodes(" , ")).toEqual([]);
    expect(parseUserCodes("yamada@example.com")).toEqual(["yamada@example.com"]);
  });
});
