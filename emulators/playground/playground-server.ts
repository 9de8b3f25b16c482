/**
 * The sandbox's playground: one page with the kintone record page (the kintone page emulator in
 * an iframe, same origin) on the left and a phone showing the demo LINE user's chat on the right.
 *
 * Routes (mounted on the relay's port by sandbox/start-sandbox.ts):
 *   GET  /playground            the page
 *   GET  /playground/app.js     browser/playground.ts bundled (esbuild, once at start)
 *   GET  /playground/api/chat   the demo user's chat: what the LINE emulator delivered to them
 *                               (pushes and replies) and what they tapped, oldest first
 *   POST /playground/api/tap    {data, displayText?}: the user tapped a postback button; LINE's
 *                               side (line-webhook-sender.ts) posts the signed webhook
 *   POST /playground/api/say    {text}: the user sent a text (a link code, `connect`, a reason); the
 *                               same, as a message event
 *   GET  /playground/phone/open?url=   the phone's browser opening the relay's connect link: logs it
 *                               in to kintone and LINE (the emulators' session cookies), then sends it
 *                               on to the link; only the relay's /connect/start links are opened
 * It never listens itself.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Hono } from "hono";
import type { Delivery } from "../line/line-emulator.js";
import type { LineWebhookSender } from "./line-webhook-sender.js";
import { playgroundHtml, type PlaygroundPageInput } from "./playground-page.js";

/** The browser on the demo user's phone, which opens links from the chat (the connect link). */
export interface PhoneBrowser {
  /** Who the browser is logged in to kintone as. */
  kintoneUser: { code: string; name: string };
  /** The start of the only addresses it opens (`{RELAY_PUBLIC_URL}/connect/start?`). */
  opens: string;
  /** `name=value` pairs of new login sessions (kintone's and LINE's) for the browser to keep. */
  sessionCookies: () => string[];
}

export interface PlaygroundOptions extends PlaygroundPageInput {
  /** The LINE emulator's record of accepted sends. */
  delivered: readonly Delivery[];
  webhook: LineWebhookSender;
  /** Without it, links open as they are. */
  phoneBrowser?: PhoneBrowser;
  now?: () => number;
}

interface ChatEntry {
  id: string;
  from: "bot" | "user";
  at: number;
  kind?: string;
  message: unknown;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** browser/playground.ts and the Flex renderer as one classic script. */
export async function bundlePlaygroundScript(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(here, "browser", "playground.ts")],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2020",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error("playground: esbuild produced no output");
  return file.text;
}

export async function createPlayground(options: PlaygroundOptions): Promise<Hono> {
  const now = options.now ?? Date.now;
  const script = await bundlePlaygroundScript();
  const html = playgroundHtml({ ...options, ...(options.phoneBrowser ? { phoneKintoneUser: options.phoneBrowser.kintoneUser } : {}) });
  const userId = options.user.id;
  /** What the user did on the phone (taps shown as their displayText, texts sent). */
  const taps: ChatEntry[] = [];

  const app = new Hono();
  app.get("/playground", (c) => c.html(html));
  app.get("/playground/", (c) => c.redirect("/playground"));
  app.get("/playground/app.js", (c) => c.body(script, 200, { "content-type": "text/javascript; charset=utf-8" }));

  app.get("/playground/api/chat", (c) => {
    const fromBot: ChatEntry[] = options.delivered
      .filter((d) => d.to.includes(userId) && !d.blocked.includes(userId))
      .flatMap((d) =>
        d.messages.map((message, index) => ({ id: `${d.requestId}.${index}`, from: "bot" as const, at: d.at, kind: d.kind, message })),
      );
    const entries = [...fromBot, ...taps].sort((a, b) => a.at - b.at);
    return c.json({ user: options.user, entries });
  });

  app.post("/playground/api/tap", async (c) => {
    const body: unknown = await c.req.json().catch(() => undefined);
    const data = typeof body === "object" && body !== null && "data" in body ? body.data : undefined;
    const displayText = typeof body === "object" && body !== null && "displayText" in body ? body.displayText : undefined;
    if (typeof data !== "string" || data === "" || data.length > 300) {
      return c.json({ error: { code: "bad_request", message: "data: a postback data string of 1 to 300 characters" } }, 400);
    }
    // LINE shows displayText in the chat as the user's own message, before the bot hears of it.
    if (typeof displayText === "string" && displayText !== "") {
      taps.push({ id: `tap.${taps.length}`, from: "user", at: now(), message: { type: "text", text: displayText } });
    }
    const sent = await options.webhook.postback(userId, data);
    return c.json(sent);
  });

  app.post("/playground/api/say", async (c) => {
    const body: unknown = await c.req.json().catch(() => undefined);
    const text = typeof body === "object" && body !== null && "text" in body ? body.text : undefined;
    if (typeof text !== "string" || text.trim() === "" || text.length > 5000) {
      return c.json({ error: { code: "bad_request", message: "text: 1 to 5000 characters" } }, 400);
    }
    taps.push({ id: `say.${taps.length}`, from: "user", at: now(), message: { type: "text", text } });
    return c.json(await options.webhook.text(userId, text));
  });

  app.get("/playground/phone/open", (c) => {
    const phone = options.phoneBrowser;
    const url = c.req.query("url") ?? "";
    // Not an open redirect: only the relay's own connect links.
    if (!phone || !url.startsWith(phone.opens)) {
      return c.text("The phone's browser opens only the relay's connect links.", 400);
    }
    // Path=/ and no port in a cookie: the kintone and LINE emulators on their own ports of this host get them.
    for (const pair of phone.sessionCookies()) c.header("Set-Cookie", `${pair}; Path=/; HttpOnly; SameSite=Lax`, { append: true });
    c.header("Cache-Control", "no-store");
    return c.redirect(url, 302);
  });

  return app;
}
