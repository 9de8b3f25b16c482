import { relayTexts, type Language } from "../../../common/i18n/relay-texts.js";
import type { Clock } from "../clock.js";
import { KintoneError, type KintoneClient } from "../kintone/kintone-client.js";
import type { GroupSummaryClient } from "../line/group-summary-client.js";
import { LineProfileError, type ProfileClient } from "../line/profile-client.js";
import type { ReplySender } from "../line/reply-sender.js";
import type { Logger } from "../logger.js";
import type { PostbackTokens } from "../postback-token.js";
import type { Job, RelayStore, WebhookEventChanges, WebhookEventRow } from "../store/relay-store.js";
import { retryDelayMs } from "../worker/backoff.js";
import type { JobResult } from "../worker/job-runner.js";
import { handlePendingReason } from "../approvals/pending-reason.js";
import { handleAccountLink } from "../connect/handle-account-link.js";
import { handleConnectCommand } from "../connect/handle-connect-command.js";
import type { LinkTokenClient } from "../line/link-token-client.js";
import type { ActAsUser } from "../links/act-as-user.js";
import {
  accountLinkEventSchema,
  followEventSchema,
  joinEventSchema,
  leaveEventSchema,
  messageEventSchema,
  postbackEventSchema,
  unfollowEventSchema,
} from "./event-schemas.js";
import { handleLinkCode } from "./handle-link-code.js";
import { handlePostback } from "./handle-postback.js";
import { createReplyOnce } from "./reply-once.js";
import { quickReplyMessage, type ReplyChoices } from "../approvals/step-replies.js";

export interface WebhookEventDeps {
  store: RelayStore;
  kintone: KintoneClient;
  replies: ReplySender;
  profiles: ProfileClient;
  /** Names groups the bot joins (LINE's group summary); absent: groups are listed by ID only. */
  groupSummaries?: GroupSummaryClient;
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  timeZone: string;
  replyDeadlineMs: number;
  /** RELAY_WELCOME_TEXT; absent: the catalogue's welcome in `language`. */
  welcomeText?: string;
  /** RELAY_LANGUAGE (default "ja"): replies that no rule set's language decides. */
  language?: Language;
  retryBaseMs?: number;
  /** Connecting kintone users (the OAuth settings are set): `connect` / `disconnect` and LINE's account link. */
  userLinking?: { linkTokens: LinkTokenClient; publicUrl: string };
  /** Acts as linked kintone users: buttons with an `action`, and the reasons they ask for (approvals/). */
  actAsUser?: ActAsUser;
}

/**
 * The inbox job: one LINE event, run after the user's earlier events (store orders them). What the
 * run changes that needs no commit of its own before an outside effect (the reply mark, the user's
 * or group's state) is gathered in `changes` and committed with the event's end: one commit per
 * simple event (follow, unfollow, join, leave, refused tap, ignored message).
 */
export function createWebhookEventHandler(deps: WebhookEventDeps) {
  const { store, clock, logger } = deps;

  /**
   * The group's name, for the settings page's group picker. A transient failure throws: the event
   * is retried as a profile lookup is. A permanent refusal must not cost the join itself: the group
   * is kept unnamed and GET /v1/groups asks again. 404 (LINE does not know it): unnamed.
   */
  const nameOfGroup = async (groupId: string): Promise<string | undefined> => {
    try {
      return await deps.groupSummaries?.groupName(groupId);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      logger.warn("group name not available", { group: groupId, error: (error as Error).message });
      return undefined;
    }
  };

  const run = async (row: WebhookEventRow, changes: WebhookEventChanges): Promise<string> => {
    const replyOnce = createReplyOnce({
      replies: deps.replies,
      clock,
      logger,
      deadlineMs: deps.replyDeadlineMs,
      onReplied: () => (changes.replied = true),
    });
    const event: unknown = JSON.parse(row.body);
    switch (row.type) {
      case "postback": {
        const parsed = postbackEventSchema.safeParse(event);
        if (!parsed.success) return `ignored: malformed postback (${parsed.error.issues[0]?.message})`;
        // The next assignee is chosen with quick replies: one text message carrying signed postbacks.
        const replyChoices: ReplyChoices = (event, replyToken, text, choices) => replyOnce(event, replyToken, [quickReplyMessage(text, choices)]);
        return handlePostback({ ...deps, replyOnce, replyChoices }, row, parsed.data);
      }
      case "message": {
        const parsed = messageEventSchema.safeParse(event);
        if (!parsed.success) return "ignored: malformed message";
        // A user asked for a reason (an action button with askReason): their next text is it.
        const reason = await handlePendingReason({ ...deps, replyOnce }, row, parsed.data);
        if (reason !== undefined) return reason;
        if (deps.userLinking) {
          const connected = await handleConnectCommand({ ...deps, ...deps.userLinking, replyOnce }, row, parsed.data);
          if (connected !== undefined) return connected;
        }
        return handleLinkCode({ ...deps, replyOnce }, row, parsed.data);
      }
      case "accountLink": {
        // Without the OAuth settings the relay started no account link: not its event to answer.
        if (!deps.userLinking) return "ignored: account link (connecting kintone users is off)";
        const parsed = accountLinkEventSchema.safeParse(event);
        if (!parsed.success) return `ignored: malformed account link (${parsed.error.issues[0]?.message})`;
        return handleAccountLink({ ...deps, replyOnce }, row, parsed.data);
      }
      case "follow": {
        const parsed = followEventSchema.safeParse(event);
        const userId = parsed.success ? parsed.data.source?.userId : undefined;
        if (!parsed.success || !userId) return "ignored: follow without a user";
        changes.user = { userId, state: "following", at: parsed.data.timestamp };
        await replyOnce(row, parsed.data.replyToken, [deps.welcomeText ?? relayTexts(deps.language ?? "ja").welcome]);
        return "user following";
      }
      case "unfollow": {
        const parsed = unfollowEventSchema.safeParse(event);
        const userId = parsed.success ? parsed.data.source?.userId : undefined;
        if (!parsed.success || !userId) return "ignored: unfollow without a user";
        changes.user = { userId, state: "blocked", at: parsed.data.timestamp };
        return "user blocked";
      }
      case "join":
      case "leave": {
        const parsed = (row.type === "join" ? joinEventSchema : leaveEventSchema).safeParse(event);
        const source = parsed.success ? parsed.data.source : undefined;
        const id = source?.groupId ?? source?.roomId;
        if (!parsed.success || !source || !id) return `ignored: ${row.type} without a group`;
        const kind = source.type === "room" ? "room" : "group";
        const name = row.type === "join" && kind === "group" ? await nameOfGroup(id) : undefined;
        changes.group = { groupId: id, kind, state: row.type === "join" ? "joined" : "left", at: parsed.data.timestamp, ...(name !== undefined ? { name } : {}) };
        return row.type === "join" ? "group joined" : "group left";
      }
      default:
        return `ignored: ${row.type} event`;
    }
  };

  return async function processWebhookEvent(job: Job): Promise<JobResult> {
    const row = await store.getWebhookEvent(job.refId);
    if (!row || row.state === "done") {
      await store.finishJob(job);
      return { done: true };
    }
    const changes: WebhookEventChanges = {};
    try {
      const outcome = await run(row, changes);
      await store.finishWebhookEvent(job, row.eventId, outcome, changes);
      return { done: true };
    } catch (error) {
      if (isPermanent(error)) {
        logger.error("webhook event failed", { event: row.eventId, type: row.type, attempts: job.attempts + 1, error });
        await store.finishWebhookEvent(job, row.eventId, `failed: ${(error as Error).message}`, { replied: changes.replied });
        return { done: true };
      }
      // The run goes on later: a reply LINE took before the failure is marked now, so the re-run
      // does not try the spent token. (Handlers reply last, so this is rare.)
      if (changes.replied) await store.markReplied(row.eventId);
      // Everything else is transient (a reply that must wait, a profile or token failure, kintone
      // 429/5xx/unreachable or a stale revision, an unexpected error): backoff, and a dead letter
      // after RELAY_GIVE_UP_AFTER_MS.
      const retryAfterMs = error instanceof KintoneError ? error.retryAfterMs : undefined;
      const delay = retryDelayMs(retryAfterMs, job.attempts, deps.retryBaseMs);
      logger.info("webhook event will be retried", { event: row.eventId, attempt: job.attempts + 1, retryInMs: delay, message: (error as Error).message });
      return { retryInMs: delay, note: (error as Error).message };
    }
  };
}

/**
 * Failures asking again will not change: kintone refused the request with a code (a field that
 * does not exist, no permission; not GAIA_CO02, a stale revision, which a re-read fixes), or
 * LINE refused the profile lookup with a 4xx other than 401 (token renewed) and 429.
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof KintoneError) return !error.retryable && !error.isStaleRevision;
  if (error instanceof LineProfileError) {
    return error.status !== null && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429;
  }
  return false;
}
