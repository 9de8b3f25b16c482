/**
 * What happens when a user runs a process-management action: match the rules in the browser; no
 * match costs nothing; a match asks the relay (bounded wait) and, when that fails, either lets the
 * action go on with a notice or, if a matching rule says so, refuses it with the reason.
 */
import { findMatchingRules } from "../../common/rules/match-rules";
import type { KintoneRecord } from "../../common/kintone/record";
import { ruleSetTimeZone } from "../../common/kintone/date-time";
import type { ProcessProceedEvent } from "./host";
import type { PluginConfig } from "./plugin-config";
import type { RecordMessages } from "./record-messages";
import type { NotificationRequest } from "./relay-client";
import { describeRelayFailure } from "./relay-failure";

export interface ProceedDeps {
  config: PluginConfig | null;
  notify(request: NotificationRequest): Promise<unknown>;
  showNotice(text: string): void;
  messages: RecordMessages;
  timeZone?: string;
  /** Fallback when the event carries no appId. */
  appId(): number | null;
}

function recordIdOf(event: ProcessProceedEvent): string {
  if (event.recordId !== undefined && event.recordId !== null) return String(event.recordId);
  const id = event.record.$id?.value;
  return typeof id === "string" || typeof id === "number" ? String(id) : "";
}

/**
 * The handler's result: the event itself when no rule matches (kintone goes on at once, no
 * request), else a promise of the event, with `error` set when the action must be refused.
 */
export function handleProcessProceed(
  event: ProcessProceedEvent,
  deps: ProceedDeps,
): ProcessProceedEvent | Promise<ProcessProceedEvent> {
  if (!deps.config) return event;
  const change = { action: event.action.value, status: event.status.value, nextStatus: event.nextStatus.value };
  const matching = findMatchingRules(deps.config.ruleSet, change, event.record as KintoneRecord, {
    timeZone: ruleSetTimeZone(deps.config.ruleSet),
  });
  if (matching.length === 0) return event;

  const request: NotificationRequest = {
    appId: String(event.appId ?? deps.appId() ?? ""),
    recordId: recordIdOf(event),
    ...change,
  };
  const block = matching.some((rule) => rule.blockOnFailure === true);
  return deps.notify(request).then(
    () => event,
    (error: unknown) => {
      const reason = describeRelayFailure(error, deps.messages);
      if (block) {
        event.error = deps.messages.blocked(reason);
      } else {
        deps.showNotice(deps.messages.noticeFailed(reason));
      }
      return event;
    },
  );
}
