import { createHash } from "node:crypto";
import type { KintoneClient } from "../kintone/kintone-client.js";
import type { Logger } from "../logger.js";
import type { RelayStore } from "../store/relay-store.js";
import type { ApprovalStepRow } from "./approval-store.js";
import { recordStateOf } from "./read-record.js";

/**
 * After a step moved the record, the notification flow runs for the new status with the app's
 * stored rules, so the next assignees get their message and a multi-step approval travels on
 * through LINE.
 *
 * It is enqueued as source "plugin": like the plugin's process.proceed request, the relay itself
 * saw which action ran, from which status to which, so rules with `trigger.actions` and `from`
 * match exactly (a "kintone-webhook" notification knows neither). The worker confirms the status
 * with its own read, as for the plugin. Its dedup key is the plugin's (app, record, action,
 * status, next status), and the replay guard (notified_transitions) keeps a kintone webhook for
 * the same change, or a re-run of this step, from notifying twice.
 *
 * The new status is read with the relay's API token (a read, not an act for anyone): when the
 * record is already past the step's revision, someone moved it on and that change notifies by itself.
 */
export async function enqueueNextStep(
  deps: { store: RelayStore; kintone: KintoneClient; logger: Logger; now: number },
  step: ApprovalStepRow,
  revisionAfter: number,
): Promise<string | undefined> {
  const { store, logger } = deps;
  const rules = await store.getAppRules(step.appId);
  if (!rules) {
    logger.info("step taken; no stored rule set to notify the next step with", { app: step.appId, record: step.recordId });
    return undefined;
  }
  const now = recordStateOf(await deps.kintone.getRecord(step.appId, step.recordId));
  if (now.revision !== revisionAfter || now.status === undefined) {
    logger.info("step taken; the record moved on since, its own change notifies", { app: step.appId, record: step.recordId, revision: now.revision, after: revisionAfter });
    return undefined;
  }
  if (now.status === step.expectedStatus) {
    // Every assignee must act (an ALL status): this one did, the status waits for the others.
    return undefined;
  }
  const input = {
    appId: step.appId,
    recordId: step.recordId,
    action: step.action,
    status: step.expectedStatus,
    nextStatus: now.status,
    rules: rules.rules,
    source: "plugin" as const,
    rulesVersion: rules.version,
  };
  // The same key notification-request.ts gives the plugin's request for this change.
  const dedupKey = createHash("sha256").update([input.appId, input.recordId, input.action, input.status, input.nextStatus].join("\u0000")).digest("hex");
  const { id } = await store.enqueueNotification(input, dedupKey, deps.now);
  logger.info("next step notified", { app: step.appId, record: step.recordId, notification: id, nextStatus: now.status });
  return id;
}
