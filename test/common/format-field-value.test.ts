import { describe, expect, it } from "vitest";
import { formatInstant, isValidTimeZone, parseDateTime } from "../../common/kintone/date-time.js";
import { formatFieldValue } from "../../common/kintone/format-field-value.js";
import type { FieldProperty, KintoneField } from "../../common/kintone/record.js";
import { richTextToPlain } from "../../common/kintone/rich-text.js";
import { sampleFields, sampleRecord } from "./fixtures/sample-record.js";

const record = sampleRecord();
const tokyo = { timeZone: "Asia/Tokyo" };
const show = (code: string, options: Parameters<typeof formatFieldValue>[1] = tokyo): string =>
  formatFieldValue(record[code], options);

describe("formatFieldValue", () => {
  it("text types as they are", () => {
    expect(show("title")).toBe("Order 1001");
    expect(show("notes")).toBe("line 1\nline 2");
    expect(show("site")).toBe("https://example.com/a?b=c");
    expect(show("priority")).toBe("High");
    expect(show("channel")).toBe("LINE");
    expect(show("status")).toBe("Approved");
    expect(show("record_no")).toBe("ORD-42");
    expect(show("$id")).toBe("42");
  });

  it("RICH_TEXT as plain text", () => {
    expect(show("body")).toBe("Hello world & co\n2nd line");
    expect(show("empty_rich")).toBe("-");
  });

  it("NUMBER keeps kintone's string unless the field asks for separators or a unit", () => {
    expect(show("amount")).toBe("1234567.5");
    const digit = { type: "NUMBER", code: "amount", label: "Amount", digit: true } as FieldProperty;
    expect(show("amount", { ...tokyo, fieldProperty: digit })).toBe("1,234,567.5");
    const yen = { ...digit, unit: "円", unitPosition: "AFTER" } as FieldProperty;
    expect(show("amount", { ...tokyo, fieldProperty: yen })).toBe("1,234,567.5円");
    const dollar = { ...digit, unit: "$", unitPosition: "BEFORE" } as FieldProperty;
    expect(formatFieldValue({ type: "NUMBER", value: "-1234" }, { ...tokyo, fieldProperty: dollar })).toBe("$-1,234");
    expect(formatFieldValue({ type: "NUMBER", value: "1e21" }, { ...tokyo, fieldProperty: digit })).toBe("1e21");
    expect(show("empty_number", { ...tokyo, fieldProperty: yen })).toBe("-");
  });

  it("CALC per its format", () => {
    expect(show("total")).toBe("2469135");
    const fields = sampleFields();
    expect(show("due_calc", { ...tokyo, fieldProperty: fields.due_calc })).toBe("2026-11-30");
    expect(show("ends_calc", { ...tokyo, fieldProperty: fields.ends_calc })).toBe("2026-11-30 10:00");
    const digits = { type: "CALC", code: "total", label: "Total", format: "NUMBER_DIGIT" } as FieldProperty;
    expect(show("total", { ...tokyo, fieldProperty: digits })).toBe("2,469,135");
  });

  it("DATE and TIME", () => {
    expect(show("due")).toBe("2026-11-21");
    expect(show("empty_date")).toBe("-");
    expect(show("start_time")).toBe("09:30");
  });

  it("DATETIME, CREATED_TIME and UPDATED_TIME in the time zone", () => {
    expect(show("deliver_at")).toBe("2026-11-21 14:00");
    expect(show("deliver_at", { timeZone: "UTC" })).toBe("2026-11-21 05:00");
    expect(show("deliver_at", { timeZone: "America/New_York" })).toBe("2026-11-21 00:00");
    expect(show("created")).toBe("2026-11-21 08:30"); // 2026-11-20T23:30Z
    expect(show("created", { timeZone: "UTC" })).toBe("2026-11-20 23:30");
    expect(show("updated")).toBe("2026-11-21 14:00");
    expect(formatFieldValue({ type: "DATETIME", value: "2026-07-01T12:00:00Z" }, { timeZone: "America/New_York" })).toBe(
      "2026-07-01 08:00",
    );
    expect(show("empty_datetime")).toBe("-");
    expect(formatFieldValue({ type: "DATETIME", value: "garbage" }, tokyo)).toBe("garbage");
  });

  it("choices joined", () => {
    expect(show("tags")).toBe("A, B");
    expect(show("regions")).toBe("East");
    expect(show("category")).toBe("Retail");
    expect(show("no_tags")).toBe("-");
  });

  it("users, organizations and groups as names", () => {
    expect(show("owner")).toBe("Sato Noboru, Kato Mika");
    expect(show("dept")).toBe("Sales");
    expect(show("grp")).toBe("-");
    expect(show("creator")).toBe("Sato Noboru");
    expect(show("modifier")).toBe("Kato Mika");
    expect(show("assignee")).toBe("Kato Mika");
    expect(formatFieldValue({ type: "USER_SELECT", value: [{ code: "guest1", name: "" }] }, tokyo)).toBe("guest1");
  });

  it("FILE as file names, SUBTABLE as a row count", () => {
    expect(show("files")).toBe("quote.pdf, map.png");
    expect(show("items")).toBe("3 rows");
    expect(show("items", { ...tokyo, locale: "ja" })).toBe("3行");
    expect(formatFieldValue({ type: "SUBTABLE", value: [{ id: "1", value: {} }] }, tokyo)).toBe("1 row");
    expect(formatFieldValue({ type: "SUBTABLE", value: [] }, tokyo)).toBe("-");
  });

  it("empty, missing and odd values", () => {
    expect(show("empty_text")).toBe("-");
    expect(formatFieldValue(undefined, tokyo)).toBe("-");
    expect(formatFieldValue({ type: "SINGLE_LINE_TEXT", value: null }, tokyo)).toBe("-");
    expect(formatFieldValue({ type: "SINGLE_LINE_TEXT", value: "   " }, tokyo)).toBe("-");
    const odd: KintoneField[] = [
      { type: "USER_SELECT", value: "sato" },
      { type: "CHECK_BOX", value: "A" },
      { type: "FILE", value: {} },
      { type: "NUMBER", value: 12 },
      { type: "SOMETHING_NEW", value: { x: 1 } },
    ];
    expect(odd.map((f) => formatFieldValue(f, tokyo))).toEqual(["-", "-", "-", "12", "-"]);
    expect(formatFieldValue({ type: "SOMETHING_NEW", value: "text" }, tokyo)).toBe("text");
    expect(formatFieldValue({ type: "SOMETHING_NEW", value: ["a", "b"] }, tokyo)).toBe("a, b");
  });

  it("an unknown time zone is a configuration error", () => {
    expect(isValidTimeZone("Asia/Tokyo")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(() => show("deliver_at", { timeZone: "Mars/Olympus" })).toThrow(RangeError);
  });
});

describe("richTextToPlain", () => {
  it("breaks lines at blocks and <br>, drops tags, decodes entities, collapses whitespace", () => {
    expect(richTextToPlain("<p>a&lt;b&gt;   c</p><p>d<br>e</p>")).toBe("a<b> c\nd\ne");
    expect(richTextToPlain("<ul><li>one</li><li>two</li></ul>")).toBe("one\ntwo");
    expect(richTextToPlain("x&#39;s &#x1F600; &quot;q&quot; &amp;amp; &unknown;")).toBe("x's 😀 \"q\" &amp; &unknown;");
    expect(richTextToPlain("<script>alert(1)</script><style>p{}</style>ok<!-- c -->")).toBe("ok");
    expect(richTextToPlain("line\n  wrapped\tin source")).toBe("line wrapped in source");
    expect(richTextToPlain("")).toBe("");
  });
});

describe("date-time helpers", () => {
  it("parses offsets and zone-less values deterministically", () => {
    expect(parseDateTime("2026-11-21T14:00:00+09:00", "UTC")).toBe(Date.UTC(2026, 10, 21, 5));
    expect(parseDateTime("2026-11-21T14:00:00+0900", "UTC")).toBe(Date.UTC(2026, 10, 21, 5));
    expect(parseDateTime("2026-11-21T14:00", "Asia/Tokyo")).toBe(Date.UTC(2026, 10, 21, 5));
    expect(parseDateTime("2026-11-21T05:00:00.250Z", "Asia/Tokyo")).toBe(Date.UTC(2026, 10, 21, 5, 0, 0, 250));
    expect(parseDateTime("2026-02-29T00:00:00Z", "UTC")).toBeUndefined();
    expect(parseDateTime("2026-11-21", "UTC")).toBeUndefined();
  });
  it("formats instants in a zone", () => {
    expect(formatInstant(Date.UTC(2026, 11, 31, 15), "Asia/Tokyo")).toBe("2027-01-01 00:00");
  });
});
