import { describe, expect, it } from "vitest";
import type { LineContract } from "../../emulators/line/contract/line-contract-types.js";
import { findContractDrift, formatDrift, type OpenApiDocument } from "../../scripts/line-contract-drift.js";

/** A two-member message union in LINE's OpenAPI style (tagged base + allOf subtypes) ... */
function spec(): OpenApiDocument {
  return {
    paths: {
      "/v2/bot/message/push": { post: { requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/PushMessageRequest" } } } } } },
    },
    components: {
      schemas: {
        PushMessageRequest: {
          type: "object",
          required: ["to", "messages"],
          properties: { to: { type: "string" }, messages: { type: "array", minItems: 1, maxItems: 5, items: { $ref: "#/components/schemas/Message" } } },
        },
        Message: {
          type: "object",
          required: ["type"],
          properties: { type: { type: "string" } },
          discriminator: { propertyName: "type", mapping: { text: "#/components/schemas/TextMessage", flex: "#/components/schemas/FlexMessage" } },
        },
        TextMessage: {
          allOf: [{ $ref: "#/components/schemas/Message" }, { type: "object", required: ["text"], properties: { text: { type: "string" } } }],
        },
        FlexMessage: {
          allOf: [
            { $ref: "#/components/schemas/Message" },
            { type: "object", required: ["altText"], properties: { altText: { type: "string" }, size: { type: "string", enum: ["sm", "md"] } } },
          ],
        },
      },
    },
  };
}

/** ... and the same union as the contract generator writes it from the SDK's types. */
function contract(): LineContract {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $comment: "fixture",
    source: { package: "@line/bot-sdk", version: "0.0.0" },
    operations: { "POST /v2/bot/message/push": { contentType: "application/json", schema: "PushMessageRequest" } },
    definitions: {
      PushMessageRequest: {
        type: "object",
        additionalProperties: false,
        properties: { to: { type: "string" }, messages: { type: "array", items: { $ref: "#/definitions/Message" } } },
        required: ["to", "messages"],
      },
      Message: {
        anyOf: [{ $ref: "#/definitions/TextMessage" }, { $ref: "#/definitions/FlexMessage" }],
        discriminator: { propertyName: "type", mapping: { text: "#/definitions/TextMessage", flex: "#/definitions/FlexMessage" } },
      },
      TextMessage: {
        type: "object",
        additionalProperties: false,
        properties: { type: { type: "string", const: "text" }, text: { type: "string" } },
        required: ["text", "type"],
      },
      FlexMessage: {
        type: "object",
        additionalProperties: false,
        properties: { type: { type: "string", const: "flex" }, altText: { type: "string" }, size: { $ref: "#/definitions/FlexMessage.SizeEnum" } },
        required: ["altText", "type"],
      },
      "FlexMessage.SizeEnum": { type: "string", enum: ["sm", "md"] },
    },
  };
}

const LIMITS = { "PushMessageRequest.messages": { minItems: 1, maxItems: 5 } };
const drift = (c: LineContract, s: OpenApiDocument, limits: typeof LIMITS | Record<string, never> = LIMITS) =>
  findContractDrift(c, [s], limits).map(formatDrift);

describe("LINE contract drift check", () => {
  it("finds nothing when the contract, its limits and the spec agree", () => {
    expect(drift(contract(), spec())).toEqual([]);
  });

  it("reports a property, a required name, an enum value and a tag LINE added, one line each", () => {
    const changed = spec();
    const schemas = changed.components!.schemas!;
    schemas.FlexMessage!.allOf![1]!.properties!.quoteToken = { type: "string" };
    schemas.TextMessage!.allOf![1]!.required = ["text", "emojis"];
    schemas.TextMessage!.allOf![1]!.properties!.emojis = { type: "array" };
    schemas.FlexMessage!.allOf![1]!.properties!.size = { type: "string", enum: ["sm", "md", "lg"] };
    schemas.Message!.discriminator!.mapping!.sticker = "#/components/schemas/StickerMessage";
    expect(drift(contract(), changed)).toEqual([
      "Message.type: LINE's spec maps 'sticker' to StickerMessage; the contract has no such member",
      "TextMessage.emojis: in LINE's spec, missing from the contract",
      "TextMessage.emojis: required in LINE's spec, optional in the contract",
      "FlexMessage.quoteToken: in LINE's spec, missing from the contract",
      "FlexMessage.size: enum differs (only in LINE's spec: lg)",
    ]);
  });

  it("reports a tag that maps elsewhere, a limit that differs from the spec, and a body schema that changed", () => {
    const changed = spec();
    const schemas = changed.components!.schemas!;
    schemas.Message!.discriminator!.mapping = { text: "#/components/schemas/TextMessage", flexible: "#/components/schemas/FlexMessage" };
    schemas.PushMessageRequest!.properties!.messages!.maxItems = 10;
    expect(drift(contract(), changed)).toEqual([
      "PushMessageRequest.messages: LINE's spec says maxItems 10; SCHEMA_LIMITS in message-limits.ts says maxItems 5",
      "Message.type: LINE's spec maps 'flexible' to FlexMessage; the contract has no such member",
      "Message.type: the contract maps 'flex' to FlexMessage; LINE's spec does not know that tag",
      "FlexMessage.type: tag is 'flexible' in LINE's spec, 'flex' in the contract",
    ]);
    expect(drift(contract(), spec(), {})).toEqual([
      "PushMessageRequest.messages: LINE's spec says minItems 1; SCHEMA_LIMITS in message-limits.ts says nothing",
      "PushMessageRequest.messages: LINE's spec says maxItems 5; SCHEMA_LIMITS in message-limits.ts says nothing",
    ]);
    const renamed = spec();
    renamed.paths!["/v2/bot/message/push"]!.post!.requestBody!.content!["application/json"]!.schema = { $ref: "#/components/schemas/PushRequest" };
    expect(drift(contract(), renamed)).toContain("POST /v2/bot/message/push: body is PushRequest in LINE's spec, PushMessageRequest in the contract");
  });
});
