import { describe, expect, it } from "vitest";
import type { KintoneRecord } from "../../common/kintone/record.js";
import { renderTemplate, templatePlaceholders } from "../../common/flex/render-template.js";
import { sampleRecord } from "./fixtures/sample-record.js";

const record = sampleRecord();
const tokyo = { timeZone: "Asia/Tokyo" };

describe("renderTemplate", () => {
  it("replaces field codes with formatted values, spaces inside the braces allowed", () => {
    expect(renderTemplate("Order {{title}} for {{ owner }}", record, tokyo)).toBe("Order Order 1001 for Sato Noboru, Kato Mika");
    expect(renderTemplate("At {{deliver_at}}", record, tokyo)).toBe("At 2026-11-21 14:00");
    expect(renderTemplate("At {{deliver_at}}", record, { timeZone: "UTC" })).toBe("At 2026-11-21 05:00");
    expect(renderTemplate("#{{$id}}", record, tokyo)).toBe("#42");
  });

  it("fills extras such as {{lineName}}; an extra wins over a field of the same code", () => {
    const r: KintoneRecord = { ...record, lineName: { type: "SINGLE_LINE_TEXT", value: "field" } };
    expect(renderTemplate("Acknowledged on LINE by {{lineName}}", record, { ...tokyo, extra: { lineName: "Taro" } })).toBe(
      "Acknowledged on LINE by Taro",
    );
    expect(renderTemplate("{{lineName}}", r, { ...tokyo, extra: { lineName: "extra" } })).toBe("extra");
    expect(renderTemplate("{{lineName}}", r, tokyo)).toBe("field");
  });

  it('replaces unknown placeholders with "" and empty fields with "-"', () => {
    expect(renderTemplate("a{{nope}}b", record, tokyo)).toBe("ab");
    expect(renderTemplate("a{{empty_text}}b", record, tokyo)).toBe("a-b");
    expect(renderTemplate("{{constructor}}{{toString}}", record, tokyo)).toBe("");
    expect(renderTemplate("{{constructor}}", record, { ...tokyo, extra: {} })).toBe("");
  });

  it("leaves text that is not a placeholder alone", () => {
    expect(renderTemplate("{ {title} } {{}} {{a b}} {title}", record, tokyo)).toBe("{ {title} } {{}} {{a b}} {title}");
    expect(renderTemplate("", record, tokyo)).toBe("");
  });

  it("does not expand placeholders that values bring in", () => {
    const r: KintoneRecord = { a: { type: "SINGLE_LINE_TEXT", value: "{{b}}" }, b: { type: "SINGLE_LINE_TEXT", value: "secret" } };
    expect(renderTemplate("{{a}}", r, tokyo)).toBe("{{b}}");
    expect(renderTemplate("{{x}}", r, { ...tokyo, extra: { x: "{{b}}" } })).toBe("{{b}}");
  });

  it("handles Japanese field codes", () => {
    const r: KintoneRecord = { 顧客名: { type: "SINGLE_LINE_TEXT", value: "山田" } };
    expect(renderTemplate("{{顧客名}}様", r, tokyo)).toBe("山田様");
  });
});

describe("templatePlaceholders", () => {
  it("lists names once, in order", () => {
    expect(templatePlaceholders("{{a}} {{ b }} {{a}} {{lineName}}")).toEqual(["a", "b", "lineName"]);
  });
});

describe("renderTemplate emptyText", () => {
  it("writes an empty field as the given text, but keeps a literal dash", () => {
    const record: KintoneRecord = { a: { type: "SINGLE_LINE_TEXT", value: "" }, b: { type: "SINGLE_LINE_TEXT", value: "-" } };
    expect(renderTemplate("[{{a}}][{{b}}]", record, { timeZone: "UTC" })).toBe("[-][-]");
    expect(renderTemplate("[{{a}}][{{b}}]", record, { timeZone: "UTC", emptyText: "" })).toBe("[][-]");
  });
});
