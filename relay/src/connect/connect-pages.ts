import type { Context } from "hono";
import { relayTexts, type Language, type RelayTexts } from "../../../common/i18n/relay-texts.js";

/**
 * The pages a phone's browser sees on the way through the connect flow: one short message in the
 * language the browser asks for first (Accept-Language; Japanese when it names neither), plain
 * HTML without scripts or anything loaded from elsewhere. The addresses on the way carry one-time
 * secrets (`t`, `code`, `state`): pages are never cached, never framed, and send no referrer.
 */
export function pageLanguage(acceptLanguage: string | undefined): Language {
  const wanted = (acceptLanguage ?? "")
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((param) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
      return { primary: tag.trim().toLowerCase().split("-")[0] ?? "", q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.q > 0 && (entry.primary === "ja" || entry.primary === "en"))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return wanted[0]?.primary === "en" ? "en" : "ja";
}

/** Headers for every answer of the flow, redirects included. */
export function setFlowHeaders(c: Context): void {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  c.header("X-Content-Type-Options", "nosniff");
}

type PageText = Exclude<
  {
    [K in keyof RelayTexts]: K extends `connectPage${string}` ? K : never;
  }[keyof RelayTexts],
  "connectPageTitle"
>;

/** A page saying what happened, in the browser's language; `values` fill `{{name}}` placeholders (escaped). */
export function connectPage(c: Context, status: 200 | 400 | 403 | 502, text: PageText, values: Record<string, string> = {}): Response {
  const language = pageLanguage(c.req.header("accept-language"));
  const texts = relayTexts(language);
  const message = escapeHtml(texts[text]).replace(/\{\{(\w+)\}\}/g, (whole, key: string) => (key in values ? escapeHtml(values[key] ?? "") : whole));
  setFlowHeaders(c);
  const title = escapeHtml(texts.connectPageTitle);
  return c.html(
    `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:2rem 1.25rem;line-height:1.7;color:#1f2328;background:#f6f8fa}main{max-width:32rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.2rem;margin:0 0 .75rem}p{margin:0}</style>
</head><body><main><h1>${title}</h1><p>${message}</p></main></body></html>`,
    status,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
