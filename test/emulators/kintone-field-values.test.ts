import { describe, expect, it } from "vitest";
import {
  emptyValue,
  formatTimestamp,
  normalizeDate,
  normalizeDateTime,
  normalizeNumber,
  normalizeTime,
} from "../../emulators/kintone/field-values.js";

describe("kintone value normalisation", () => {
  it("numbers: trimmed by the caller, exponents expanded, non-numbers refused", () => {
    expect(normalizeNumber("42")).toBe("42");
    expect(normalizeNumber("-0.50")).toBe("-0.50");
    expect(normalizeNumber("+7")).toBe("7");
    expect(normalizeNumber("1.5e1")).toBe("15");
    for (const bad of ["abc", "1,000", "12abc", "", "."]) expect(normalizeNumber(bad)).toBeUndefined();
  });

  it("dates: kintone's short forms are filled in; impossible dates refused", () => {
    expect(normalizeDate("2026-11-21")).toBe("2026-11-21");
    expect(normalizeDate("2015")).toBe("2015-01-01");
    expect(normalizeDate("2015-7")).toBe("2015-07-01");
    expect(normalizeDate("2015-7-5")).toBe("2015-07-05");
    for (const bad of ["2026-02-30", "2026-13-01", "21/11/2026", "2026-11-21T00:00:00Z"]) {
      expect(normalizeDate(bad)).toBeUndefined();
    }
  });

  it("times: HH:MM, seconds dropped", () => {
    expect(normalizeTime("9:05")).toBe("09:05");
    expect(normalizeTime("23:59:59")).toBe("23:59");
    expect(normalizeTime("24:00")).toBeUndefined();
  });

  it("date-times: to UTC, whole minutes; no offset means UTC", () => {
    expect(normalizeDateTime("2026-11-21T14:07:45+09:00")).toBe("2026-11-21T05:07:00Z");
    expect(normalizeDateTime("2026-11-21T05:00:00Z")).toBe("2026-11-21T05:00:00Z");
    expect(normalizeDateTime("2026-11-20T23:30:00-08:00")).toBe("2026-11-21T07:30:00Z");
    expect(normalizeDateTime("2026-11-21T05:00")).toBe("2026-11-21T05:00:00Z");
    expect(normalizeDateTime("2026-11-21")).toBe("2026-11-21T00:00:00Z");
    for (const bad of ["2026-11-21 05:00", "2026-11-31T00:00:00Z", "2026-11-21T25:00:00Z", "soon"]) {
      expect(normalizeDateTime(bad)).toBeUndefined();
    }
  });

  it("timestamps and empty values as kintone returns them", () => {
    expect(formatTimestamp(Date.UTC(2026, 10, 21, 5, 0, 59, 999))).toBe("2026-11-21T05:00:00Z");
    expect(emptyValue("SINGLE_LINE_TEXT")).toBe("");
    expect(emptyValue("DATETIME")).toBe("");
    expect(emptyValue("DATE")).toBeNull();
    expect(emptyValue("DROP_DOWN")).toBeNull();
    expect(emptyValue("USER_SELECT")).toEqual([]);
  });
});
