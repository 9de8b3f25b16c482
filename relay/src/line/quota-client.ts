import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import type { AccessTokenSource } from "./line-http.js";

/**
 * LINE's own count of this month's messages: `GET /v2/bot/message/quota` (the limit) and
 * `GET /v2/bot/message/quota/consumption` (how many were sent), documented at
 * https://developers.line.biz/en/reference/messaging-api/#get-quota and #get-consumption.
 * Neither a push nor a reply: its own module, so the Reply/Push boundary check stays simple.
 * Our own GET with a timeout, as in line-http.ts (the SDK's client cannot time out); the answers
 * are read as the SDK's types.
 */
export interface LineQuota {
  /** "none": no limit; "limited": `value` messages this month. */
  type: messagingApi.QuotaType;
  value: number | null;
  totalUsage: number;
}

export interface QuotaClient {
  /** Throws LineQuotaError when LINE cannot be asked or does not answer 200. */
  getQuota(): Promise<LineQuota>;
}

export class LineQuotaError extends Error {
  override readonly name = "LineQuotaError";
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const quotaSchema = z.object({
  type: z.enum(["none", "limited"]),
  value: z.number().int().nonnegative().optional(),
}) satisfies z.ZodType<messagingApi.MessageQuotaResponse>;

const consumptionSchema = z.object({ totalUsage: z.number().int().nonnegative() }) satisfies z.ZodType<messagingApi.QuotaConsumptionResponse>;

export function createQuotaClient(options: { apiBaseUrl: string; tokens: AccessTokenSource; timeoutMs?: number; fetch?: typeof fetch }): QuotaClient {
  const doFetch = options.fetch ?? fetch;
  const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    let token: string;
    try {
      token = await options.tokens.getToken();
    } catch (error) {
      throw new LineQuotaError(`no channel access token: ${(error as Error).message}`, null, { cause: error });
    }
    let response: Response;
    try {
      response = await doFetch(options.apiBaseUrl + path, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message;
      throw new LineQuotaError(`LINE ${path}: ${cause}`, null, { cause: error });
    }
    const text = await response.text().catch(() => "");
    if (response.status === 401) options.tokens.invalidate(token);
    if (!response.ok) throw new LineQuotaError(`LINE ${path}: ${response.status} ${text.slice(0, 300)}`, response.status);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new LineQuotaError(`LINE ${path}: unexpected answer ${text.slice(0, 300)}`, response.status);
    return parsed.data;
  };
  return {
    async getQuota() {
      const [quota, consumption] = await Promise.all([
        get("/v2/bot/message/quota", quotaSchema),
        get("/v2/bot/message/quota/consumption", consumptionSchema),
      ]);
      return { type: quota.type, value: quota.type === "limited" ? (quota.value ?? null) : null, totalUsage: consumption.totalUsage };
    },
  };
}
