import { describe, expect, it } from "vitest";
import { FlexBuildError, buildFlexMessage } from "../../common/flex/build-flex-message.js";
import type { FlexBuildInput } from "../../common/flex/build-flex-message.js";
import type { FlexBox, FlexButton, FlexComponent, FlexMessage, FlexText } from "../../common/flex/flex-types.js";
import type { KintoneRecord } from "../../common/kintone/record.js";
import type { Rule } from "../../common/rules/rule-set.js";
import { flexSpecProblems } from "./flex-spec-check.js";
import { sampleFields, sampleRecord } from "./fixtures/sample-record.js";

const RECORD_URL = "https://example.cybozu.com/k/7/show#record=42";

function baseRule(): Rule {
  return {
    id: "r1",
    trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
    recipients: { fields: ["line_user_id"], ids: [] },
    audience: "staff",
    message: { title: "Order {{title}} approved", fields: ["title", "amount", "due", "deliver_at", "owner", "empty_text", "missing"] },
    buttons: [
      { id: "ack", label: "Got it" },
      { id: "call", label: "Call me" },
    ],
  };
}

function input(overrides: Partial<FlexBuildInput> = {}): FlexBuildInput {
  return {
    rule: baseRule(),
    record: sampleRecord(),
    fields: sampleFields(),
    change: { action: "Approve", status: "Submitted", nextStatus: "Approved" },
    recordUrl: RECORD_URL,
    postbackData: (button) => `tok.${button.id}`,
    timeZone: "Asia/Tokyo",
    ...overrides,
  };
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (typeof node === "object" && node !== null) {
    visit(node as Record<string, unknown>);
    Object.values(node).forEach((v) => walk(v, visit));
  }
}

function texts(message: FlexMessage): string[] {
  const out: string[] = [];
  walk(message.contents, (n) => {
    if (n.type === "text") out.push(n.text as string);
  });
  return out;
}

function rows(message: FlexMessage): Array<[string, string]> {
  const body = message.contents.body as FlexBox;
  const rowBox = body.contents.find((c): c is FlexBox => c.type === "box");
  if (!rowBox) return [];
  return rowBox.contents.map((row: FlexComponent) => {
    if (row.type !== "box") return [(row as FlexText).text, ""];
    const [label, value] = row.contents as FlexText[];
    return [label?.text ?? "", value?.text ?? ""];
  });
}

function footerButtons(message: FlexMessage): FlexButton[] {
  return (message.contents.footer?.contents ?? []) as FlexButton[];
}

const bubbleBytes = (m: FlexMessage): number => new TextEncoder().encode(JSON.stringify(m.contents)).length;

/** LINE rules the OpenAPI spec does not state, checked on every message built here. */
function expectWithinLineLimits(message: FlexMessage): void {
  expect(flexSpecProblems(message)).toEqual([]);
  expect(message.altText.length).toBeGreaterThan(0);
  expect(message.altText.length).toBeLessThanOrEqual(1500);
  expect(bubbleBytes(message)).toBeLessThanOrEqual(30 * 1024);
  walk(message.contents, (n) => {
    if (n.type === "text") expect((n.text as string).trim()).not.toBe("");
    if (typeof n.size === "string") expect(n.size).toMatch(/^(xxs|xs|sm|md|lg|xl|xxl|[345]xl)$/);
    if (n.type === "postback" || n.type === "uri") expect((n.label as string).length).toBeLessThanOrEqual(40);
    if (n.type === "postback") expect((n.data as string).length).toBeLessThanOrEqual(300);
    if (n.type === "uri") expect((n.uri as string).length).toBeLessThanOrEqual(1000);
  });
  expect(JSON.stringify(message)).not.toMatch(/\d+px/);
}

describe("buildFlexMessage: shape", () => {
  const message = buildFlexMessage(input());

  it("is one bubble that the LINE spec accepts", () => {
    expect(message.type).toBe("flex");
    expect(message.contents.type).toBe("bubble");
    expectWithinLineLimits(message);
  });

  it("has the rendered title in a bold header, and as altText", () => {
    const title = message.contents.header?.contents[0] as FlexText;
    expect(title).toMatchObject({ type: "text", text: "Order Order 1001 approved", weight: "bold", size: "lg", wrap: true });
    expect(message.altText).toBe("Order Order 1001 approved");
  });

  it("states the status change", () => {
    expect(texts(message)).toContain("Approve: Submitted → Approved");
  });

  it("has a label/value row per field: labels from the form, codes as fallback, '-' when missing", () => {
    expect(rows(message)).toEqual([
      ["Title", "Order 1001"],
      ["Amount", "1234567.5"],
      ["Due date", "2026-11-21"],
      ["Delivery", "2026-11-21 14:00"],
      ["Owner", "Sato Noboru, Kato Mika"],
      ["Empty", "-"],
      ["missing", "-"],
    ]);
  });

  it("has a postback button per rule button, then the kintone link", () => {
    const buttons = footerButtons(message);
    expect(buttons.map((b) => b.action)).toEqual([
      { type: "postback", label: "Got it", data: "tok.ack", displayText: "Got it" },
      { type: "postback", label: "Call me", data: "tok.call", displayText: "Call me" },
      { type: "uri", label: "Open in kintone", uri: RECORD_URL },
    ]);
  });

  it("localises the link label", () => {
    const ja = buildFlexMessage(input({ locale: "ja" }));
    expect(footerButtons(ja).at(-1)?.action).toMatchObject({ type: "uri", label: "kintoneで開く" });
  });
});

describe("buildFlexMessage: options", () => {
  it("leaves the link out when recordLink is false or there is no usable URL", () => {
    const rule = baseRule();
    rule.message.recordLink = false;
    for (const m of [
      buildFlexMessage(input({ rule })),
      buildFlexMessage(input({ recordUrl: undefined })),
      buildFlexMessage(input({ recordUrl: "javascript:alert(1)" })),
      buildFlexMessage(input({ recordUrl: "not a url" })),
      buildFlexMessage(input({ recordUrl: `https://example.cybozu.com/k/7/show#record=42&x=${"a".repeat(1000)}` })),
    ]) {
      expect(footerButtons(m).map((b) => b.action.type)).toEqual(["postback", "postback"]);
      expectWithinLineLimits(m);
    }
  });

  it("has no footer when there is nothing to tap", () => {
    const rule = { ...baseRule(), buttons: [] };
    const m = buildFlexMessage(input({ rule, recordUrl: undefined }));
    expect(m.contents.footer).toBeUndefined();
    expectWithinLineLimits(m);
  });

  it("has no row box when the rule lists no fields", () => {
    const rule = baseRule();
    rule.message.fields = [];
    const m = buildFlexMessage(input({ rule }));
    expect(m.contents.body?.contents).toHaveLength(1);
    expectWithinLineLimits(m);
  });

  it("shows only the status when it did not change, and never an empty text", () => {
    const m = buildFlexMessage(input({ change: { action: "", status: "Submitted", nextStatus: "Submitted" } }));
    expect(texts(m)).toContain("Submitted");
    const blank = buildFlexMessage(input({ change: { action: "", status: "", nextStatus: "" } }));
    expectWithinLineLimits(blank);
  });

  it('falls back when the title renders empty: header "-", a generic altText', () => {
    const rule = baseRule();
    rule.message.title = "{{nope}}";
    const m = buildFlexMessage(input({ rule }));
    expect((m.contents.header?.contents[0] as FlexText).text).toBe("-");
    expect(m.altText).toBe("kintone notification");
    expect(buildFlexMessage(input({ rule, locale: "ja" })).altText).toBe("kintoneからのお知らせ");
  });
});

describe("buildFlexMessage: limits", () => {
  const huge = "x".repeat(100 * 1024);

  it("a 100 KB text field stays under 30 KB, values capped with …, altText <= 1500", () => {
    const record: KintoneRecord = { ...sampleRecord(), title: { type: "MULTI_LINE_TEXT", value: huge } };
    const m = buildFlexMessage(input({ record }));
    expectWithinLineLimits(m);
    expect(m.altText).toHaveLength(1500);
    expect(m.altText.endsWith("…")).toBe(true);
    const [, value] = rows(m)[0] ?? [];
    expect(value?.length).toBe(500);
    expect(value?.endsWith("…")).toBe(true);
  });

  it("thirty 100 KB Japanese fields: every row kept, values shortened to fit", () => {
    const record: KintoneRecord = {};
    const codes = Array.from({ length: 30 }, (_, i) => `f${i}`);
    for (const code of codes) record[code] = { type: "MULTI_LINE_TEXT", value: "あ\n".repeat(50 * 1024) };
    const rule = { ...baseRule(), message: { title: "{{f0}}", fields: codes } };
    const m = buildFlexMessage(input({ record, rule, fields: {} }));
    expectWithinLineLimits(m);
    expect(bubbleBytes(m)).toBeLessThanOrEqual(30_000);
    const shown = rows(m);
    expect(shown).toHaveLength(30);
    for (const [, value] of shown) {
      expect(value.length).toBeLessThan(500);
      expect(value.endsWith("…")).toBe(true);
    }
  });

  it("more rows than fit even when shortened (an unchecked rule): rows dropped, a final … row", () => {
    const record: KintoneRecord = {};
    const codes = Array.from({ length: 400 }, (_, i) => `f${i}`);
    for (const code of codes) record[code] = { type: "MULTI_LINE_TEXT", value: "あ".repeat(1000) };
    const rule = { ...baseRule(), message: { title: "t", fields: codes } };
    const m = buildFlexMessage(input({ record, rule, fields: {} }));
    expectWithinLineLimits(m);
    expect(bubbleBytes(m)).toBeLessThanOrEqual(30_000);
    const shown = rows(m);
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThan(400);
    expect(shown.at(-1)).toEqual(["…", ""]);
    expect(shown[0]?.[0]).toBe("f0");
  });

  it("thirty 500-character ASCII fields fit by shortening values, without dropping rows", () => {
    const record: KintoneRecord = {};
    const codes = Array.from({ length: 30 }, (_, i) => `f${i}`);
    for (const code of codes) record[code] = { type: "SINGLE_LINE_TEXT", value: "y".repeat(5000) };
    const rule = { ...baseRule(), message: { title: "t", fields: codes } };
    const m = buildFlexMessage(input({ record, rule, fields: {} }));
    expectWithinLineLimits(m);
    expect(rows(m)).toHaveLength(30);
  });

  it("escapes and control characters do not push it over", () => {
    const record: KintoneRecord = {};
    const codes = Array.from({ length: 30 }, (_, i) => `f${i}`);
    for (const code of codes) record[code] = { type: "SINGLE_LINE_TEXT", value: '"\\\u0001\u0002\t'.repeat(20_000) };
    const rule = { ...baseRule(), message: { title: '"\\'.repeat(1000), fields: codes } };
    const m = buildFlexMessage(input({ record, rule, fields: {} }));
    expectWithinLineLimits(m);
    expect(JSON.stringify(m)).not.toMatch(/\\u000[12]/);
  });

  it("never splits an emoji when truncating", () => {
    const record: KintoneRecord = { ...sampleRecord(), title: { type: "SINGLE_LINE_TEXT", value: "😀".repeat(2000) } };
    const m = buildFlexMessage(input({ record }));
    for (const text of [...texts(m), m.altText]) expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expectWithinLineLimits(m);
  });

  it("cuts a 60-character button label to 40", () => {
    const rule = { ...baseRule(), buttons: [{ id: "long", label: "L".repeat(60) }] };
    const [button] = footerButtons(buildFlexMessage(input({ rule })));
    expect(button?.action.label).toHaveLength(40);
    expect(button?.action.label.endsWith("…")).toBe(true);
    expect(button?.action).toMatchObject({ type: "postback", displayText: button?.action.label });
  });

  it("cuts long field labels to 40", () => {
    const fields = { ...sampleFields(), title: { type: "SINGLE_LINE_TEXT", code: "title", label: "T".repeat(60) } };
    expect(rows(buildFlexMessage(input({ fields })))[0]?.[0]).toHaveLength(40);
  });

  it("throws FlexBuildError when the caller's postback data is over 300 characters", () => {
    expect(() => buildFlexMessage(input({ postbackData: () => "d".repeat(300) }))).not.toThrow();
    let error: unknown;
    try {
      buildFlexMessage(input({ postbackData: (b) => (b.id === "call" ? "d".repeat(301) : "ok") }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlexBuildError);
    expect(error).toMatchObject({ code: "POSTBACK_DATA_TOO_LONG", buttonId: "call", name: "FlexBuildError" });
    expect((error as Error).message).toMatch(/301 characters; LINE allows at most 300/);
  });
});

describe("flexSpecProblems (the test's own spec check) catches what it should", () => {
  it("reports unknown properties, missing required ones, bad enums and unknown types", () => {
    const good = buildFlexMessage(input());
    const bad = structuredClone(good) as unknown as { altText?: string; contents: Record<"header" | "body" | "footer", FlexBox> };
    const loose = (c: FlexComponent | undefined) => c as unknown as Record<string, unknown>;
    loose(bad.contents.header.contents[0]).fontSize = "12px";
    loose(bad.contents.footer.contents[0]).style = "fancy";
    delete loose(bad.contents.footer.contents[1]).action;
    bad.contents.body.contents.push({ type: "marquee" } as unknown as FlexComponent);
    delete bad.altText;
    const problems = flexSpecProblems(bad);
    expect(problems).toContainEqual(expect.stringMatching(/fontSize is not defined by the spec/));
    expect(problems).toContainEqual(expect.stringMatching(/"fancy" is not one of primary\|secondary\|link/));
    expect(problems).toContainEqual(expect.stringMatching(/footer\.contents\[1\]: missing required action/));
    expect(problems).toContainEqual(expect.stringMatching(/"marquee" is not in the mapping/));
    expect(problems).toContainEqual("message: missing required altText");
  });
});
