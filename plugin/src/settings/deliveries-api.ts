/**
 * The relay's answers the settings page's Deliveries tab reads (GET /v1/quota,
 * GET /v1/apps/{appId}/notifications, GET /v1/apps/{appId}/dead-letters, POST .../{id}/retry),
 * parsed once here: what the page shows is what these types say.
 */
import { z } from "zod";
import { RelayError, type RelayClient } from "../relay-client";

const QuotaAnswer = z.object({
  month: z.string(),
  pushed: z.number(),
  cap: z.number().nullable(),
  lineLimited: z.boolean().optional(),
  line: z.object({ type: z.string(), value: z.number().optional(), totalUsage: z.number().optional() }).nullable(),
  lineError: z.string().optional(),
});
export type Quota = z.infer<typeof QuotaAnswer>;

const AppNotification = z.object({
  id: z.string(),
  recordId: z.string(),
  source: z.string().optional(),
  action: z.string(),
  status: z.string(),
  nextStatus: z.string(),
  state: z.string(),
  detail: z.string().nullable(),
  createdAt: z.string(),
  rulesVersion: z.number().nullable(),
  rules: z.array(z.object({ id: z.string(), name: z.string() })),
  recipients: z.array(z.object({ id: z.string(), ruleId: z.string(), state: z.string(), detail: z.string().nullable() })),
  acknowledgements: z.array(
    z.object({ recipient: z.string(), displayName: z.string().nullable(), buttonId: z.string(), buttonLabel: z.string(), at: z.string() }),
  ),
});
export type AppNotification = z.infer<typeof AppNotification>;
const AppNotificationsAnswer = z.object({ appId: z.string(), notifications: z.array(AppNotification) });

const DeadLetter = z.object({
  id: z.string(),
  kind: z.string(),
  appId: z.string().nullable(),
  recordId: z.string().nullable(),
  error: z.string(),
  attempts: z.number(),
  firstFailedAt: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
const DeadLettersAnswer = z.array(DeadLetter);
const RetryAnswer = z.object({ id: z.string(), jobId: z.string() });

async function getParsed<T>(client: RelayClient, schema: z.ZodType<T>, path: string, method: "GET" | "POST", expected: number[]): Promise<T> {
  const parsed = schema.safeParse(await client.requestJson(path, method, expected));
  if (!parsed.success) throw new RelayError(`the relay's answer to ${path} is not what this plugin reads (${parsed.error.message.slice(0, 200)})`, 200, "unexpected_answer");
  return parsed.data;
}

/** GET /v1/quota: this month's pushes against the cap, and LINE's own quota. */
export function getQuota(client: RelayClient): Promise<Quota> {
  return getParsed(client, QuotaAnswer, "/v1/quota", "GET", [200]);
}

/** GET /v1/apps/{appId}/notifications: the app's newest notifications, newest first. */
export async function listAppNotifications(client: RelayClient, appId: string, limit = 50): Promise<AppNotification[]> {
  const path = `/v1/apps/${encodeURIComponent(appId)}/notifications?limit=${limit}`;
  return (await getParsed(client, AppNotificationsAnswer, path, "GET", [200])).notifications;
}

/** GET /v1/apps/{appId}/dead-letters: the app's work the relay gave up on. */
export function listAppDeadLetters(client: RelayClient, appId: string): Promise<DeadLetter[]> {
  return getParsed(client, DeadLettersAnswer, `/v1/apps/${encodeURIComponent(appId)}/dead-letters`, "GET", [200]);
}

/** POST /v1/apps/{appId}/dead-letters/{id}/retry: run it again as before (202). */
export function retryAppDeadLetter(client: RelayClient, appId: string, id: string): Promise<{ id: string; jobId: string }> {
  return getParsed(client, RetryAnswer, `/v1/apps/${encodeURIComponent(appId)}/dead-letters/${encodeURIComponent(id)}/retry`, "POST", [202]);
}
