import { relayTexts, type Language, type RelayTexts } from "../../../common/i18n/relay-texts.js";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { RelayStore } from "../store/relay-store.js";

/**
 * The texts of replies about one delivery: in the language (and with the own wording) of the
 * rule set it was sent under, which its notification kept; `fallback` (RELAY_LANGUAGE) when that
 * is gone or names no language.
 */
export async function textsForNotification(store: RelayStore, notificationId: string | undefined, fallback: Language): Promise<RelayTexts> {
  const notification = notificationId ? await store.getNotification(notificationId) : undefined;
  return textsForRules(notification?.rules, fallback);
}

/** The texts for an app (a link code's replies): its current rule set's language and wording. */
export async function textsForApp(store: RelayStore, appId: string, fallback: Language): Promise<RelayTexts> {
  return textsForRules((await store.getAppRules(appId))?.rules, fallback);
}

function textsForRules(rules: string | undefined, fallback: Language): RelayTexts {
  const parsed = rules === undefined ? undefined : parseRuleSet(rules);
  if (!parsed?.ok) return relayTexts(fallback);
  return relayTexts(parsed.ruleSet.language ?? fallback, parsed.ruleSet.texts);
}
