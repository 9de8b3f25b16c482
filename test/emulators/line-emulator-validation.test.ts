import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";

const TOKEN = "long-lived-token-for-validation-tests";
const USER = "U" + "0123456789abcdef".repeat(2);

function flexPush(overrides: { footerButton?: Record<string, unknown> } = {}) {
  return {
    to: USER,
    messages: [
      {
        type: "flex",
        altText: "Order 42 approved",
        contents: {
          type: "bubble",
          body: {
            type: "box",
            layout: "vertical",
            contents: [
              { type: "text", text: "Order 42 approved", weight: "bold", size: "lg" },
              { type: "text", text: "Amount: 1,200", wrap: true },
            ],
          },
          footer: {
            type: "box",
            layout: "vertical",
            contents: [
              overrides.footerButton ?? {
                type: "button",
                style: "primary",
                action: { type: "postback", label: "Got it", data: "n=1&b=ack", displayText: "Got it" },
              },
              { type: "button", action: { type: "uri", label: "Open record", uri: "https://example.cybozu.com/k/1/show#record=42" } },
            ],
          },
        },
      },
    ],
  };
}

describe("LINE emulator: request validation", () => {
  const line = createLineEmulator({ longLivedTokens: [TOKEN] });
  let server: RunningServer;

  beforeAll(async () => {
    server = await listen(line.app);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => line.reset());

  async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { response, body: (await response.json()) as { message: string; details?: Array<{ message: string; property: string }> } };
  }

  it("accepts a valid Flex push and records it", async () => {
    const { response, body } = await post("/v2/bot/message/push", flexPush());
    expect(response.status).toBe(200);
    expect(response.headers.get("x-line-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({ sentMessages: [{ id: expect.stringMatching(/^\d+$/) }] });
    expect(line.pushesTo(USER)).toHaveLength(1);
    expect(line.delivered[0]).toMatchObject({ kind: "push", to: [USER], accessToken: TOKEN });
    expect(line.requests[0]).toMatchObject({ method: "POST", path: "/v2/bot/message/push", status: 200 });
    expect(line.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("rejects a property no schema declares, naming its path", async () => {
    const body = flexPush();
    (body.messages[0]!.contents.body as Record<string, unknown>).colour = "red";
    const { response, body: answer } = await post("/v2/bot/message/push", body);
    expect(response.status).toBe(400);
    expect(answer.message).toBe("The property, 'messages[0].contents.body.colour', in the request body is invalid (line: -, column: -)");
    expect(answer.details).toEqual([{ message: "invalid property", property: "messages[0].contents.body.colour" }]);
    expect(line.delivered).toHaveLength(0);
  });

  it("rejects an unknown property inside a button's action inside the bubble's body, naming its full path", async () => {
    const body = flexPush();
    const bodyBox = body.messages[0]!.contents.body as { contents: unknown[] };
    bodyBox.contents[1] = { type: "button", action: { type: "postback", label: "Go", data: "d", foo: 1 } };
    const { response, body: answer } = await post("/v2/bot/message/push", body);
    expect(response.status).toBe(400);
    expect(answer).toEqual({
      message: "The property, 'messages[0].contents.body.contents[1].action.foo', in the request body is invalid (line: -, column: -)",
      details: [{ message: "invalid property", property: "messages[0].contents.body.contents[1].action.foo" }],
    });
    expect(line.delivered).toHaveLength(0);
  });

  it("holds enums, literal tags and the spec's integers and URI formats", async () => {
    const badStyle = await post("/v2/bot/message/push", flexPush({ footerButton: { type: "button", style: "fancy", action: { type: "postback", label: "x", data: "d" } } }));
    expect(badStyle.body.details).toEqual([
      { message: "must be one of [primary, secondary, link]", property: "messages[0].contents.footer.contents[0].style" },
    ]);
    const carousel = { to: USER, messages: [{ type: "flex", altText: "x", contents: { type: "carousel", contents: [{ type: "box", layout: "vertical", contents: [] }] } }] };
    const wrongTag = await post("/v2/bot/message/push", carousel);
    expect(wrongTag.body.details).toEqual([{ message: "invalid type 'box'; expected bubble", property: "messages[0].contents.contents[0].type" }]);
    const fractionalFlex = await post("/v2/bot/message/push", flexPush({ footerButton: { type: "button", flex: 1.5, action: { type: "postback", label: "x", data: "d" } } }));
    expect(fractionalFlex.body.details).toEqual([{ message: "must be an integer", property: "messages[0].contents.footer.contents[0].flex" }]);
    const image = { to: USER, messages: [{ type: "image", originalContentUrl: "not a url", previewImageUrl: "https://example.com/p.jpg" }] };
    expect((await post("/v2/bot/message/push", image)).body.details).toEqual([{ message: "invalid uri", property: "messages[0].originalContentUrl" }]);
  });

  it("rejects an unknown discriminator value", async () => {
    const { response, body } = await post("/v2/bot/message/push", flexPush({ footerButton: { type: "bouton", action: { type: "postback", label: "x", data: "d" } } }));
    expect(response.status).toBe(400);
    expect(body.details?.[0]?.property).toBe("messages[0].contents.footer.contents[0].type");
  });

  it("rejects a 41-character button label (documented limit 40)", async () => {
    const label = "x".repeat(41);
    const { response, body } = await post(
      "/v2/bot/message/push",
      flexPush({ footerButton: { type: "button", action: { type: "postback", label, data: "d" } } }),
    );
    expect(response.status).toBe(400);
    expect(body).toEqual({
      message: "The request body has 1 error(s)",
      details: [{ message: "size must be between 0 and 40", property: "messages[0].contents.footer.contents[0].action.label" }],
    });
    const ok = await post("/v2/bot/message/push", flexPush({ footerButton: { type: "button", action: { type: "postback", label: "x".repeat(40), data: "d" } } }));
    expect(ok.response.status).toBe(200);
  });

  it("rejects a missing required field", async () => {
    const body = flexPush();
    delete (body.messages[0] as Partial<(typeof body.messages)[0]>).altText;
    const { response, body: answer } = await post("/v2/bot/message/push", body);
    expect(response.status).toBe(400);
    expect(answer.details).toContainEqual({ message: "must be specified", property: "messages[0].altText" });
  });

  it("rejects a bad `to` with LINE's wording", async () => {
    const { response, body } = await post("/v2/bot/message/push", { ...flexPush(), to: "someone@example.com" });
    expect(response.status).toBe(400);
    expect(body.message).toBe("The property, 'to', in the request body is invalid (line: -, column: -)");
  });

  it("checks documented limits the spec does not state", async () => {
    const tooLongUri = { type: "button", action: { type: "uri", label: "x", uri: "ftp://example.com/file" } };
    const { body } = await post("/v2/bot/message/push", flexPush({ footerButton: tooLongUri }));
    expect(body.details).toContainEqual({ message: "invalid uri scheme", property: "messages[0].contents.footer.contents[0].action.uri" });

    const sixMessages = { to: USER, messages: Array.from({ length: 6 }, () => ({ type: "text", text: "hi" })) };
    expect((await post("/v2/bot/message/push", sixMessages)).body.details).toEqual([
      { message: "size must be between 1 and 5", property: "messages" },
    ]);

    const longAlt = flexPush();
    longAlt.messages[0]!.altText = "a".repeat(1501);
    expect((await post("/v2/bot/message/push", longAlt)).body.details).toEqual([
      { message: "size must be between 1 and 1500", property: "messages[0].altText" },
    ]);

    const carousel = {
      to: USER,
      messages: [{ type: "flex", altText: "x", contents: { type: "carousel", contents: Array.from({ length: 13 }, () => flexPush().messages[0]!.contents) } }],
    };
    expect((await post("/v2/bot/message/push", carousel)).body.details).toContainEqual({
      message: "size must be between 1 and 12",
      property: "messages[0].contents.contents",
    });
  });

  it("validates multicast recipients and answers {} on success", async () => {
    const bad = await post("/v2/bot/message/multicast", { to: [USER, "C" + "0".repeat(32)], messages: [{ type: "text", text: "hi" }] });
    expect(bad.response.status).toBe(400);
    expect(bad.body.details).toEqual([{ message: "invalid property", property: "to[1]" }]);
    const ok = await post("/v2/bot/message/multicast", { to: [USER], messages: [{ type: "text", text: "hi" }] });
    expect(ok.response.status).toBe(200);
    expect(ok.body).toEqual({});
  });

  it("serves the validate endpoints without delivering", async () => {
    const valid = await post("/v2/bot/message/validate/push", { messages: flexPush().messages });
    expect(valid.response.status).toBe(200);
    const invalid = await post("/v2/bot/message/validate/reply", { messages: [{ type: "text" }] });
    expect(invalid.response.status).toBe(400);
    expect(invalid.body.details).toContainEqual({ message: "must be specified", property: "messages[0].text" });
    expect(line.delivered).toHaveLength(0);
  });

  it("answers 401 without a valid bearer token, 415 for non-JSON, 400 for broken JSON, 413 above 2 MB", async () => {
    const anonymous = await fetch(server.url + "/v2/bot/message/push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(flexPush()),
    });
    expect(anonymous.status).toBe(401);
    const wrong = await post("/v2/bot/message/push", flexPush(), { authorization: "Bearer nope" });
    expect(wrong.response.status).toBe(401);
    expect(wrong.body.message).toMatch(/^Authentication failed\./);

    const text = await post("/v2/bot/message/push", "{}", { "content-type": "text/plain" });
    expect(text.response.status).toBe(415);
    const broken = await post("/v2/bot/message/push", '{"to": ');
    expect(broken.response.status).toBe(400);
    expect(broken.body.message).toMatch(/^The request body could not be parsed as JSON/);

    const huge = await post("/v2/bot/message/push", { to: USER, messages: [{ type: "text", text: "x".repeat(2 * 1024 * 1024) }] });
    expect(huge.response.status).toBe(413);
    expect(line.delivered).toHaveLength(0);
  });
});
