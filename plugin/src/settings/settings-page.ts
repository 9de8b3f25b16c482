/**
 * The plugin's settings page: relay URL and secret, "Test connection", the rules editor with a live
 * preview of the message each rule sends, and Save (only when everything is valid).
 */
import { buildFlexMessage } from "../../../common/flex/build-flex-message";
import type { FieldProperties, KintoneRecord } from "../../../common/kintone/record";
import { checkRuleSet } from "../../../common/rules/check-rule-set";
import { parseRuleSet } from "../../../common/rules/parse-rule-set";
import type { Rule, RuleSet } from "../../../common/rules/rule-set";
import type { SettingsHost } from "../host";
import { CONFIG_KEYS, normalizeRelayUrl, parsePluginConfig, proxyPrefix } from "../plugin-config";
import { connectionFailureText, pingResultText, registrationFailureText } from "./connection-test";
import { ErrorBoard } from "./error-paths";
import { renderFlexMessage } from "./flex-preview";
import { Button, Notification, Text, onValue } from "./kuc";
import type { ProcessAction } from "./rule-editor";
import { renderRuleEditor } from "./rule-editor";
import type { SaveProblem } from "./save-plan";
import { checkSavedConsistency, planSave, runSave, validateRelayUrl } from "./save-plan";
import { saveMessages } from "./save-messages";
import { synthesizeRecord } from "./sample-record";
import type { SettingsMessages } from "./settings-messages";
import { settingsMessages } from "./settings-messages";
import { currentAuthorization, settingsRelayClient } from "./settings-relay";
import { reminderPreviewChange } from "./trigger-editor";
import { renderWebhookNote } from "./webhook-note";
import { offerUndo, refreshProblemSummary, showUpdateAppReminder } from "./admin-notices";
import { renderApprovalNote } from "./approval-note";
import { renderTestMessagePanel } from "./test-message-panel";
import { mountSettingsTabs } from "./settings-tabs";
import type { RelayClient } from "../relay-client";

/** How long "Test connection" and the registration on Save wait for the relay. */
const RELAY_TIMEOUT_MS = 10_000;

interface AppSettings {
  fields: FieldProperties;
  actions: ProcessAction[];
  statuses: string[];
  /** Process management is on (records have assignees; buttons may take actions). */
  processEnabled: boolean;
  sample: KintoneRecord;
  /** The sample is the app's newest record (not made up). */
  sampleIsRecord: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function loadAppSettings(host: SettingsHost, appId: number): Promise<AppSettings> {
  const [form, status] = await Promise.all([
    host.api<{ properties: FieldProperties }>("/k/v1/app/form/fields", "GET", { app: appId }),
    host.api<{ enable?: boolean; states?: Record<string, { name: string; index: string }> | null; actions?: ProcessAction[] | null }>(
      "/k/v1/app/status",
      "GET",
      { app: appId },
    ),
  ]);
  const statuses = Object.values(status.states ?? {})
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((s) => s.name);
  let sample: KintoneRecord | undefined;
  try {
    const records = await host.api<{ records?: KintoneRecord[] }>("/k/v1/records", "GET", {
      app: appId,
      query: "order by $id desc limit 1",
    });
    sample = records.records?.[0];
  } catch {
    // No records API or no permission: a made-up record previews just as well.
  }
  return {
    fields: form.properties,
    actions: status.actions ?? [],
    statuses,
    processEnabled: status.enable === true,
    sample: sample ?? synthesizeRecord(form.properties),
    sampleIsRecord: sample !== undefined,
  };
}

function emptyRule(index: number, used: Set<string>): Rule {
  let n = index + 1;
  while (used.has(`r${n}`)) n++;
  return {
    id: `r${n}`,
    trigger: { actions: [], from: [], to: [] },
    recipients: { fields: [], ids: [] },
    // No recordLink: the "Open in kintone" button follows the audience (customers cannot open kintone).
    message: { title: "", fields: [] },
    buttons: [],
  };
}

function problemText(problem: SaveProblem, m: SettingsMessages): string {
  return problem.code === "required" ? m.required : problem.code === "invalidUrl" ? m.invalidUrl : m.secretSpaces;
}

export async function startSettingsPage(host: SettingsHost, root: HTMLElement): Promise<void> {
  const m = settingsMessages(host.language);
  const appId = host.appId() ?? 0;
  const saved = host.getConfig();
  let savedRelayUrl = saved[CONFIG_KEYS.relayUrl] ? normalizeRelayUrl(saved[CONFIG_KEYS.relayUrl] ?? "") : null;
  // Read back only to keep the saved secret when the admin does not replace it; never shown.
  let savedAuthorization = savedRelayUrl
    ? (host.getProxyConfig(proxyPrefix(savedRelayUrl), "POST")?.headers?.Authorization ?? null)
    : null;
  const parsedSaved = saved[CONFIG_KEYS.ruleSet] ? parseRuleSet(saved[CONFIG_KEYS.ruleSet]) : null;
  // Saved rules that no longer validate (an older plugin, an edit by hand) are still opened for
  // repair when their shape allows it, with the errors shown; otherwise the page says so.
  const repairable = !parsedSaved || parsedSaved.ok ? null : parsePluginConfig({ ...saved, relayUrl: "https://x" });
  const draft: RuleSet = parsedSaved?.ok
    ? parsedSaved.ruleSet
    : repairable?.ok
      ? repairable.config.ruleSet
      : { version: 1, rules: [] };
  const errors = new ErrorBoard();
  // Errors show where the admin has edited, and everywhere once Save was tried.
  const touched = new Set<string>();
  let submitted = Boolean(parsedSaved && !parsedSaved.ok);
  const visible = (controlPath: string): boolean =>
    submitted || [...touched].some((t) => t === controlPath || t.startsWith(`${controlPath}.`) || controlPath.startsWith(`${t}.`));
  const markTouched = (event: Event): void => {
    const target = event.target instanceof HTMLElement ? event.target.closest<HTMLElement>("[data-error-path]") : null;
    if (target?.dataset.errorPath) touched.add(target.dataset.errorPath);
  };
  root.addEventListener("input", markTouched, true);
  root.addEventListener("change", markTouched, true);

  root.replaceChildren();
  root.classList.add("kline-settings");
  root.append(el("h1", "kline-title", m.title), el("p", "kline-intro", m.intro));
  const status = el("div", "kline-status");
  // What the relay said when Save sent it the rules.
  const registerResult = el("div", "kline-register-result");
  registerResult.setAttribute("aria-live", "polite");
  root.append(status, registerResult);
  // The problems still shown, each linking to its control; "Update App" after Save; undo a removal.
  const summary = el("div", "kline-problem-summary");
  const updateAppReminder = el("div", "kline-update-app");
  const undoBox = el("div", "kline-undo-box");
  summary.hidden = updateAppReminder.hidden = undoBox.hidden = true;
  root.append(summary, updateAppReminder, undoBox);
  // A save that stopped between setProxyConfig and setConfig (save-plan.ts: runSave) shows here.
  const repairBox = el("div", "kline-save-repair");
  root.append(repairBox);
  const consistency = checkSavedConsistency(saved, (url, method) => host.getProxyConfig(url, method));
  if (!consistency.ok) {
    const sm = saveMessages(host.language);
    const again = new Button({ className: "kline-save-again", text: sm.saveAgain, type: "normal" });
    again.addEventListener("click", () => save.click());
    repairBox.append(el("div", "kline-error-line", sm.inconsistent(consistency.problem)), again);
  }
  if (parsedSaved && !parsedSaved.ok) {
    status.classList.add("kline-error-line");
    status.textContent = repairable?.ok
      ? m.savedRulesInvalid(parsedSaved.errors.map((e) => `${e.path} ${e.message}`).join("; "))
      : m.savedRulesUnreadable;
  }
  const banner = status.textContent ?? "";

  let app: AppSettings;
  try {
    app = await loadAppSettings(host, appId);
  } catch (error) {
    status.textContent = m.loadFailed(error instanceof Error ? error.message : String(error));
    status.classList.add("kline-error-line");
    return;
  }

  // Relay connection ------------------------------------------------------------------------
  const connection = el("section", "kline-section kline-connection");
  connection.append(el("h2", "kline-section-heading", m.connection));
  const relayUrl = new Text({
    className: "kline-relay-url",
    label: m.relayUrl,
    placeholder: m.relayUrlHint,
    value: savedRelayUrl ?? "",
    requiredIcon: true,
  });
  relayUrl.dataset.errorPath = "relayUrl";
  errors.register("relayUrl", (message) => {
    relayUrl.error = message;
  });

  const secretBox = el("div", "kline-secret");
  const secretLabel = el("label", "kline-label", m.secret);
  const secretState = el("div", "kline-secret-state", savedAuthorization ? `•••••••• ${m.secretSaved}` : m.secretNone);
  const secretInput = el("input", "kline-secret-input");
  secretInput.type = "password";
  secretInput.autocomplete = "new-password";
  secretInput.placeholder = m.secretPlaceholder;
  secretInput.setAttribute("aria-label", m.secret);
  secretInput.dataset.errorPath = "secret";
  const secretHint = el("div", "kline-hint", savedAuthorization ? m.secretKeep : "");
  const keyHowTo = el("div", "kline-hint kline-key-howto", m.secretHowTo(String(appId)));
  const secretError = el("div", "kline-error-line kline-secret-error");
  secretError.hidden = true;
  errors.register("secret", (message) => {
    secretError.textContent = message;
    secretError.hidden = message === "";
  });
  const replace = new Button({ className: "kline-secret-replace", text: m.secretReplace });
  secretInput.hidden = Boolean(savedAuthorization);
  replace.visible = Boolean(savedAuthorization);
  replace.addEventListener("click", () => {
    secretInput.hidden = false;
    replace.visible = false;
    secretInput.focus();
  });
  secretLabel.htmlFor = "kline-secret-input";
  secretInput.id = "kline-secret-input";
  secretBox.append(secretLabel, secretState, replace, secretInput, secretHint, keyHowTo, secretError);

  const testButton = new Button({ className: "kline-test", text: m.testConnection });
  const testResult = el("div", "kline-test-result");
  testResult.setAttribute("aria-live", "polite");
  testButton.addEventListener("click", () => {
    void testConnection();
  });
  connection.append(relayUrl, secretBox, el("div", "kline-row"), testButton, testResult);
  root.append(connection);

  // Rules -------------------------------------------------------------------------------------
  const rulesSection = el("section", "kline-section kline-rules");
  rulesSection.append(el("h2", "kline-section-heading", m.rules));
  const ruleCards = el("div", "kline-rule-list");
  const rulesError = el("div", "kline-error-line");
  rulesError.hidden = true;
  errors.register("rules", (message) => {
    rulesError.textContent = message;
    rulesError.hidden = message === "";
  });
  errors.register("", (message) => {
    status.textContent = message;
  });
  const addRule = new Button({ className: "kline-rule-add", text: m.addRule });
  // Rules that reach kintone users need their LINE connection: what the admin should know.
  const approvalNote = renderApprovalNote(host.language);
  rulesSection.append(ruleCards, rulesError, approvalNote.section, addRule);
  root.append(rulesSection);
  // The kintone webhook: the URL to paste, which triggers to tick, which rules it serves.
  const webhookNote = renderWebhookNote(host.language);
  root.append(webhookNote.section);

  // The relay as the URL and key on screen reach it (test message, Deliveries tab), or what to do first.
  const relayOnScreen = (): RelayClient | string => {
    const authorization = currentAuthorization(host, secretInput.value, savedRelayUrl);
    if (validateRelayUrl(relayUrl.value ?? "") || !authorization) return m.testNoSecret;
    return settingsRelayClient(host, relayUrl.value ?? "", authorization, String(appId), RELAY_TIMEOUT_MS);
  };
  const relayFailureText = (error: unknown): string => connectionFailureText(error, normalizeRelayUrl(relayUrl.value ?? ""), m, String(appId));
  const testPanel = renderTestMessagePanel({
    messages: m,
    appId: String(appId),
    rules: () => ruleSetOnScreen(),
    relay: relayOnScreen,
    failureText: relayFailureText,
    defaultRecordId: app.sampleIsRecord ? String(app.sample.$id?.value ?? "") : "",
  });
  root.append(testPanel.section);

  const previews: HTMLElement[] = [];
  const ctx = {
    fields: app.fields,
    sampleNote: app.sampleIsRecord ? m.previewSampleRecord(String(app.sample.$id?.value ?? "")) : m.previewSampleMadeUp,
    actions: app.actions,
    statuses: app.statuses,
    processEnabled: app.processEnabled,
    messages: m,
    language: host.language,
    errors,
    changed: () => validate(),
    restructure: () => renderRules(),
    removeRule: (index: number) => {
      const [removed] = draft.rules.splice(index, 1);
      renderRules();
      if (removed) {
        offerUndo(undoBox, m.ruleRemoved(removed.id), m, () => {
          draft.rules.splice(Math.min(index, draft.rules.length), 0, removed);
          renderRules();
        });
      }
    },
  };

  function renderRules(): void {
    errors.forgetUnder("rules");
    errors.register("rules", (message) => {
      rulesError.textContent = message;
      rulesError.hidden = message === "";
    });
    previews.length = 0;
    ruleCards.replaceChildren();
    draft.rules.forEach((rule, i) => {
      const { card, preview } = renderRuleEditor(rule, i, ctx);
      previews.push(preview);
      ruleCards.append(card);
    });
    addRule.disabled = draft.rules.length >= 100;
    testPanel.update();
    validate();
  }

  addRule.addEventListener("click", () => {
    draft.rules.push(emptyRule(draft.rules.length, new Set(draft.rules.map((r) => r.id))));
    renderRules();
  });

  function sampleChange(rule: Rule): { action: string; status: string; nextStatus: string } {
    const action =
      app.actions.find(
        (a) =>
          (rule.trigger.actions.length === 0 || rule.trigger.actions.includes(a.name)) &&
          (rule.trigger.from.length === 0 || rule.trigger.from.includes(a.from)) &&
          (rule.trigger.to.length === 0 || rule.trigger.to.includes(a.to)),
      ) ?? app.actions[0];
    return {
      action: rule.trigger.actions[0] ?? action?.name ?? "Action",
      status: rule.trigger.from[0] ?? action?.from ?? "",
      nextStatus: rule.trigger.to[0] ?? action?.to ?? "",
    };
  }

  function renderPreview(rule: Rule, target: HTMLElement): void {
    try {
      const recordId = String(app.sample.$id?.value ?? "1");
      const message = buildFlexMessage({
        rule,
        record: app.sample,
        fields: app.fields,
        // A reminder's line is the relay's own (common/flex/reminder-line.ts).
        change: rule.trigger.schedule
          ? reminderPreviewChange(rule.trigger.schedule, { record: app.sample, fields: app.fields, timeZone: draft.timeZone ?? host.timeZone, language: ruleSetLanguage() })
          : sampleChange(rule),
        recordUrl: `${location.origin}/k/${appId}/show#record=${recordId}`,
        postbackData: (button) => `preview:${button.id}`,
        timeZone: draft.timeZone ?? host.timeZone,
        // The rule set's language, as the relay will send it: the preview shows exactly that.
        locale: ruleSetLanguage(),
        texts: draft.texts,
      });
      const alt = el("div", "kline-preview-alt", m.previewAlt(message.altText));
      target.replaceChildren(renderFlexMessage(message), alt);
    } catch (error) {
      target.replaceChildren(el("div", "kline-error-line", m.previewError(error instanceof Error ? error.message : String(error))));
    }
  }

  /** Validates everything, shows errors at their controls, refreshes previews; true when valid. */
  function validate(): boolean {
    const result = parseRuleSet(draft);
    const shown: { path: string; message: string }[] = result.ok
      ? []
      : result.errors.map((e) => ({ path: e.path, message: host.language === "ja" && e.ja ? e.ja : e.message }));
    const problems = formProblems();
    // The same checks the relay makes (common/rules/check-rule-set.ts), here against the app's form.
    const misfits = checkRuleSet(draft, app.fields)
      .map((p) => ({ path: p.path, message: host.language === "ja" ? p.ja : p.message }))
      // parseRuleSet already made the checks that need no form (LINE IDs, recipients): say each once.
      .filter((p) => !shown.some((e) => e.path === p.path && e.message === p.message));
    const orphans = errors.show(
      [...shown, ...misfits, ...problems.map((p) => ({ path: p.control, message: problemText(p, m) }))],
      visible,
    );
    if (orphans.length > 0 && submitted) status.textContent = orphans.map((o) => `${o.path}: ${o.message}`).join(" / ");
    else if (!status.classList.contains("kline-saved")) status.textContent = result.ok ? "" : banner;
    draft.rules.forEach((rule, i) => {
      const target = previews[i];
      if (target) renderPreview(rule, target);
    });
    refreshProblemSummary(summary, root, m);
    webhookNote.update(validateRelayUrl(relayUrl.value ?? "") ? "" : (relayUrl.value ?? ""), draft.rules);
    approvalNote.update(draft.rules);
    return result.ok && problems.length === 0 && misfits.length === 0;
  }

  function formProblems(): SaveProblem[] {
    const problems: SaveProblem[] = [];
    const url = validateRelayUrl(relayUrl.value ?? "");
    if (url) problems.push(url);
    const plan = planSave({
      relayUrl: relayUrl.value ?? "",
      appId: String(appId),
      newSecret: secretInput.value,
      savedAuthorization,
      savedRelayUrl,
      ruleSet: draft,
    });
    if (!plan.ok) problems.push(...plan.problems.filter((p) => p.control === "secret"));
    return problems;
  }

  onValue<string>(relayUrl, () => validate(), ["input", "change"]);
  secretInput.addEventListener("input", () => validate());

  async function testConnection(): Promise<void> {
    const urlProblem = validateRelayUrl(relayUrl.value ?? "");
    if (urlProblem) {
      validate();
      return;
    }
    testResult.className = "kline-test-result";
    // Exactly what is on screen: this URL, the typed (else saved) secret, these rules.
    const authorization = currentAuthorization(host, secretInput.value, savedRelayUrl);
    if (!authorization) {
      testResult.classList.add("kline-test-failed");
      testResult.textContent = m.testNoSecret;
      return;
    }
    testResult.textContent = m.testing;
    testButton.disabled = true;
    try {
      const client = settingsRelayClient(host, relayUrl.value ?? "", authorization, String(appId), RELAY_TIMEOUT_MS);
      const ping = await client.ping(JSON.stringify(ruleSetOnScreen()));
      const { ok, text } = pingResultText(ping, m);
      testResult.classList.add(ok ? "kline-test-ok" : "kline-test-warn");
      testResult.textContent = text;
    } catch (error) {
      testResult.classList.add("kline-test-failed");
      testResult.textContent = connectionFailureText(error, normalizeRelayUrl(relayUrl.value ?? ""), m, String(appId));
    } finally {
      testButton.disabled = false;
    }
  }

  /** The rule set as Save would save it: with the zone its date conditions are judged in. */
  function ruleSetOnScreen(): RuleSet {
    return { ...draft, timeZone: draft.timeZone ?? host.timeZone, language: ruleSetLanguage() };
  }

  /** The saved language, else the admin's kintone language (the relay writes to LINE users in it). */
  function ruleSetLanguage(): "ja" | "en" {
    return draft.language ?? (host.language === "ja" ? "ja" : "en");
  }

  /** After Save: the relay keeps the app's rule set; unreachable is no failure of the save. */
  async function registerRules(relayUrlValue: string, authorization: string, rules: string): Promise<void> {
    registerResult.className = "kline-register-result";
    registerResult.textContent = m.registering;
    try {
      const client = settingsRelayClient(host, relayUrlValue, authorization, String(appId), RELAY_TIMEOUT_MS);
      const registered = await client.registerRules(String(appId), rules);
      registerResult.classList.add("kline-registered");
      registerResult.textContent = m.registered(registered.version);
    } catch (error) {
      registerResult.classList.add("kline-register-failed");
      registerResult.textContent = registrationFailureText(error, relayUrlValue, m, String(appId));
    }
  }

  // Save ----------------------------------------------------------------------------------------
  const save = new Button({ className: "kline-save", text: m.save, type: "submit" });
  const cancel = new Button({ className: "kline-cancel", text: m.cancel });
  cancel.addEventListener("click", () => history.back());
  const footer = el("div", "kline-footer");
  footer.append(save, cancel);
  root.append(footer);

  save.addEventListener("click", () => {
    void (async () => {
      status.classList.remove("kline-saved");
      submitted = true;
      if (!validate()) {
        new Notification({ text: m.fixErrors, type: "danger", duration: 6000 }).open();
        const firstError = root.querySelector(".kline-error-line:not([hidden]), [error]:not([error=''])");
        firstError?.scrollIntoView({ block: "center" });
        return;
      }
      const result = parseRuleSet(draft);
      if (!result.ok) return;
      const plan = planSave({
        relayUrl: relayUrl.value ?? "",
        appId: String(appId),
        newSecret: secretInput.value,
        savedAuthorization,
        savedRelayUrl,
        // The zone date conditions are judged in, by the plugin and the relay alike; the language
        // the relay writes to LINE users in (the admin's kintone language unless saved otherwise).
        ruleSet: { ...result.ruleSet, timeZone: result.ruleSet.timeZone ?? host.timeZone, language: ruleSetLanguage() },
      });
      if (!plan.ok) return;
      save.disabled = true;
      const outcome = await runSave(plan.plan, host).finally(() => {
        save.disabled = false;
      });
      if (!outcome.ok) {
        const text = saveMessages(host.language).saveFailed(outcome.step, outcome.detail);
        status.classList.remove("kline-saved");
        status.classList.add("kline-error-line");
        status.textContent = text;
        new Notification({ text, type: "danger", duration: 10000 }).open();
        return;
      }
      repairBox.replaceChildren();
      savedAuthorization = plan.plan.proxyConfigs.at(-1)?.headers.Authorization ?? savedAuthorization;
      savedRelayUrl = plan.plan.config[CONFIG_KEYS.relayUrl] ?? savedRelayUrl;
      secretInput.value = "";
      secretInput.hidden = true;
      replace.visible = true;
      secretState.textContent = `•••••••• ${m.secretSaved}`;
      secretHint.textContent = m.secretKeep;
      status.classList.remove("kline-error-line");
      status.classList.add("kline-saved");
      status.textContent = m.saved;
      new Notification({ text: m.saved, type: "success", duration: 3000 }).open();
      showUpdateAppReminder(updateAppReminder, m);
      undoBox.replaceChildren();
      undoBox.hidden = true;
      const authorization = plan.plan.proxyConfigs.at(-1)?.headers.Authorization;
      const rules = plan.plan.config[CONFIG_KEYS.ruleSet];
      if (authorization && rules !== undefined && savedRelayUrl) await registerRules(savedRelayUrl, authorization, rules);
    })();
  });

  renderRules();
  // 「ルール」 (everything below the connection) and 「配信状況」 (settings-tabs.ts).
  mountSettingsTabs(root, connection, { language: host.language, appId: String(appId), timeZone: host.timeZone, relay: relayOnScreen, failureText: relayFailureText });
}
