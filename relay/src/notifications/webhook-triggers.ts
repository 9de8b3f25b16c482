import type { Rule } from "../../../common/rules/rule-set.js";

/**
 * Which rules a status change seen only through kintone's UPDATE_STATUS webhook can serve. The
 * webhook says neither which action ran nor the status before
 * (https://jp.cybozu.help/k/en/user/app_settings/set_webhook/webhook_notification.html): the
 * relay knows `from` only when it saw the record at an earlier revision. So:
 * - a reminder (schedule) never fires on a status change;
 * - a rule that names `actions` is browser-only: skipped;
 * - a rule that names `from` is judged when `from` is known, else skipped;
 * - `to` is judged against the status the relay read.
 * Each skip says why, for the notification's detail.
 */
export function selectWebhookRules(rules: readonly Rule[], change: { from: string | undefined; to: string }): { rules: Rule[]; skipped: string[] } {
  const selected: Rule[] = [];
  const skipped: string[] = [];
  for (const rule of rules) {
    const { actions, from, to, schedule } = rule.trigger;
    if (schedule) continue;
    if (to.length > 0 && !to.includes(change.to)) continue;
    if (actions.length > 0) {
      skipped.push(`rule ${rule.id} needs actions (${actions.join(", ")}), which kintone's webhook does not tell: only the plugin's request can serve it`);
      continue;
    }
    if (from.length > 0) {
      if (change.from === undefined) {
        skipped.push(`rule ${rule.id} needs "from", and the relay never saw this record before this change: only the plugin's request can serve it`);
        continue;
      }
      if (!from.includes(change.from)) continue;
    }
    selected.push(rule);
  }
  return { rules: selected, skipped };
}

/** Rules a webhook for a change into `to` may serve, before the record is read (`from` decided then). */
export function webhookCandidates(rules: readonly Rule[], to: string): Rule[] {
  return rules.filter((rule) => !rule.trigger.schedule && (rule.trigger.to.length === 0 || rule.trigger.to.includes(to)));
}
