/**
 * Calls to the relay through a kintone proxy. On record pages that is kintone.plugin.app.proxy:
 * kintone's server adds the saved `Authorization` header and `rules` data, and the browser sends
 * only references. On the settings page it is kintone.proxy, which adds nothing: the settings
 * page passes a proxy that sets the secret itself (settings/settings-relay.ts).
 */
import type { ProxyFn, ProxyResponse } from "./host";
import { normalizeRelayUrl } from "./plugin-config";

export class RelayError extends Error {
  override name = "RelayError";
  constructor(
    message: string,
    /** HTTP status, or 0 when the relay could not be reached or did not answer in time. */
    readonly status: number,
    /** The relay's error code ("unauthorized", "invalid_request", ...), "timeout" or "unreachable". */
    readonly code: string,
    /** The relay's `details`: each refused path, its English message and, when it has them, the Japanese words. */
    readonly details: ReadonlyArray<{ path: string; message: string; ja?: string }> = [],
    /** For a timeout: how long the plugin waited. */
    readonly timeoutMs?: number,
  ) {
    super(message);
  }
}

export interface NotificationRequest {
  appId: string;
  recordId: string;
  action: string;
  status: string;
  nextStatus: string;
}

/** not_linked: a kintone user (assignee or named user) who has not connected LINE, or must connect again. */
export type RecipientState = "sent" | "failed" | "blocked" | "pending" | "invalid" | "capped" | "not_linked";

export interface Delivery {
  id: string;
  ruleId: string;
  ruleName?: string;
  createdAt: string;
  state: string;
  recipients: { id: string; state: RecipientState | string; displayName?: string }[];
  acknowledgements: { recipient: string; displayName?: string; buttonId: string; buttonLabel?: string; at: string }[];
}

export interface PingResult {
  ok: boolean;
  version?: string;
  rules?: { valid: boolean; count: number; errors?: { path?: string; message?: string }[] };
}

/** POST /v1/apps/{appId}/test-message: what LINE said to the push. */
export interface TestMessageResult {
  sent: boolean;
  to: string;
  language?: string;
  line?: { status?: number; requestId?: string | null };
}

export interface TestMessageRequest {
  ruleId: string;
  recordId: string;
  to: string;
  /** The rule set on screen; without it the relay uses the one it stores for the app. */
  rules?: string;
}

export interface RelayGroup {
  id: string;
  kind: string;
  state: string;
  since: string;
  /** The group's name from LINE (rooms have none). */
  name?: string;
  joinedAt?: string;
}

/** A LINE user a rule would send to for a record, and the field holding the ID. */
export interface RecordRecipient {
  field: string;
  userId: string;
}

export interface RegisteredRules {
  appId: string;
  version: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RelayError(`no answer within ${ms / 1000} s`, 0, "timeout", [], ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function relayDetails(value: unknown): Array<{ path: string; message: string; ja?: string }> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((d: unknown) => {
    if (typeof d !== "object" || d === null) return [];
    const { path, message, ja } = d as { path?: unknown; message?: unknown; ja?: unknown };
    if (typeof path !== "string" || typeof message !== "string") return [];
    return [{ path, message, ...(typeof ja === "string" ? { ja } : {}) }];
  });
}

/** Turns a proxy answer into the parsed body, or a RelayError naming what went wrong. */
export function handleRelayResponse<T>([body, status]: ProxyResponse, expected: number[]): T {
  const json = parseBody(body);
  if (expected.includes(status) && json !== undefined) return json as T;
  const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  if (error?.message) throw new RelayError(error.message, status, error.code ?? `http_${status}`, relayDetails(error.details));
  // kintone's proxy answers 502/503/504 itself when the target is down or slow.
  const code = status === 401 ? "unauthorized" : status >= 500 ? "relay_error" : `http_${status}`;
  throw new RelayError(`the relay answered HTTP ${status}`, status, code);
}

export class RelayClient {
  private readonly base: string;
  constructor(
    private readonly proxy: ProxyFn,
    relayUrl: string,
    private readonly timeoutMs = 5000,
  ) {
    this.base = normalizeRelayUrl(relayUrl);
  }

  private async call<T>(
    path: string,
    method: "GET" | "POST" | "PUT",
    data: Record<string, unknown>,
    expected: number[],
  ): Promise<T> {
    const headers: Record<string, string> = method === "GET" ? {} : { "Content-Type": "application/json" };
    let response: ProxyResponse;
    try {
      response = await withTimeout(this.proxy(`${this.base}${path}`, method, headers, data), this.timeoutMs);
    } catch (error) {
      if (error instanceof RelayError) throw error;
      throw new RelayError(`the relay could not be reached (${String(error).slice(0, 200)})`, 0, "unreachable");
    }
    return handleRelayResponse<T>(response, expected);
  }

  /** POST /v1/notifications -> the job id. */
  async notify(request: NotificationRequest): Promise<string> {
    const body = await this.call<{ id: string }>("/v1/notifications", "POST", { ...request }, [200, 202]);
    return body.id;
  }

  /**
   * `rules`: the rule set to check. Through kintone.proxy (the settings page) it is the one sent;
   * through kintone.plugin.app.proxy the saved one wins, as kintone injects it.
   */
  ping(rules?: string): Promise<PingResult> {
    return this.call<PingResult>("/v1/ping", "POST", rules === undefined ? {} : { rules }, [200]);
  }

  /** PUT /v1/apps/{appId}/rules: the relay keeps the app's rule set (a new version when it changed). */
  registerRules(appId: string, rules: string): Promise<RegisteredRules> {
    return this.call<RegisteredRules>(`/v1/apps/${encodeURIComponent(appId)}/rules`, "PUT", { rules }, [200]);
  }

  /** "Send a test message": the relay builds the rule's message for the record and pushes it to `to`. */
  sendTestMessage(appId: string, request: TestMessageRequest): Promise<TestMessageResult> {
    return this.call<TestMessageResult>(`/v1/apps/${encodeURIComponent(appId)}/test-message`, "POST", { ...request }, [200]);
  }

  /** The LINE users in the rule's recipient fields of the record (the rule set on screen when `rules` is given). */
  async recordRecipients(appId: string, request: { ruleId: string; recordId: string; rules?: string }): Promise<RecordRecipient[]> {
    const body = await this.call<{ recipients?: RecordRecipient[] }>(`/v1/apps/${encodeURIComponent(appId)}/test-message/recipients`, "POST", { ...request }, [200]);
    return body.recipients ?? [];
  }

  /** GET /v1/groups: the groups and rooms the bot is in. */
  async listGroups(): Promise<RelayGroup[]> {
    const body = await this.call<{ groups?: RelayGroup[] }>("/v1/groups", "GET", {}, [200]);
    return body.groups ?? [];
  }

  async listDeliveries(appId: string, recordId: string): Promise<Delivery[]> {
    const path = `/v1/records/${encodeURIComponent(appId)}/${encodeURIComponent(recordId)}/deliveries`;
    const body = await this.call<{ deliveries?: Delivery[] }>(path, "GET", {}, [200]);
    return body.deliveries ?? [];
  }

  /**
   * A relay route without a body, answered with one of `expected`: the parsed JSON as it came, for
   * the caller to check (the settings page's Deliveries tab: settings/deliveries-api.ts, which
   * parses with zod there, so the record pages' scripts stay small).
   */
  requestJson(path: string, method: "GET" | "POST", expected: number[]): Promise<unknown> {
    return this.call<unknown>(path, method, {}, expected);
  }

  createLinkCode(appId: string, recordId: string, field: string): Promise<{ code: string; expiresAt: string }> {
    return this.call("/v1/link-codes", "POST", { appId, recordId, field }, [200, 201]);
  }
}
