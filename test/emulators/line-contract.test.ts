import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lineContractText, sdkVersion } from "../../emulators/line/contract/build-line-contract.js";
import { applySchemaLimits, committedLineContract, LINE_CONTRACT_FILE } from "../../emulators/line/contract/line-contract.js";

describe("the committed LINE contract", () => {
  // Generation costs about 6 s of CPU (ts-json-schema-generator over the SDK's .d.ts, no type-check;
  // up to ~17 s wall time on a busy 2-core machine), so the test regenerates the whole file rather
  // than trusting a fingerprint of the SDK version and its .d.ts files.
  it("is exactly what `npm run line-contract` generates from the installed @line/bot-sdk", () => {
    const committed = readFileSync(LINE_CONTRACT_FILE, "utf8");
    expect(committedLineContract().source).toEqual({ package: "@line/bot-sdk", version: sdkVersion() });
    expect(committed, "stale: run npm run line-contract").toBe(lineContractText());
  }, 120_000);

  it("closes every object type and marks every union of the messages with its discriminator", () => {
    const { definitions } = committedLineContract();
    const open = Object.entries(definitions)
      .filter(([, schema]) => schema.type === "object" && schema.additionalProperties !== false)
      .map(([name]) => name);
    expect(open).toEqual([]);
    const unions = Object.entries(definitions).filter(([, schema]) => schema.anyOf);
    expect(unions.filter(([, schema]) => !schema.discriminator).map(([name]) => name)).toEqual(["IssueStatelessChannelTokenRequest"]);
    expect(definitions.FlexComponent?.discriminator?.mapping.button).toBe("#/definitions/FlexButton");
    expect(definitions.FlexButton?.properties?.type).toEqual({ type: "string", const: "button" });
    expect(definitions.FlexButton?.required).toEqual(expect.arrayContaining(["type", "action"]));
  });

  it("refuses a documented limit whose property the SDK no longer has", () => {
    expect(() => applySchemaLimits(committedLineContract(), { "FlexButton.colour": { maxLength: 7 } })).toThrow(/FlexButton\.colour/);
    const limited = applySchemaLimits(committedLineContract(), { "PushMessageRequest.messages": { minItems: 1, maxItems: 5 } });
    expect(limited.definitions.PushMessageRequest?.properties?.messages).toMatchObject({ minItems: 1, maxItems: 5 });
    expect(committedLineContract().definitions.PushMessageRequest?.properties?.messages?.maxItems).toBeUndefined();
  });
});
