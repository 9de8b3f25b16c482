/**
 * The parts of a rule that act for kintone users (rule-set.ts): recipients by kintone user (the
 * record's assignees, named login names) and, per button, the choice between writing back (as
 * before) and taking a process step as the user who taps, with an optional reason.
 *
 * Assignees and actions exist only with process management on: when it is off (or the process has
 * no actions) those options are disabled here and the reason is said beside them. A rule saved
 * before it was turned off keeps its values visible, so the shared validator's words show at them
 * and they can be removed.
 */
import type { Button as RuleButton, Rule } from "../../../common/rules/rule-set";
import { approvalMessages } from "./approval-messages";
import { Checkbox, Dropdown, RadioButton, Text, onValue } from "./kuc";
import type { EditorContext } from "./rule-editor";
import { parseUserCodes } from "./user-codes";

type ButtonKind = "writeBack" | "step";

/** What the other kind held, so switching back and forth loses nothing the admin typed. */
const putAside = new WeakMap<RuleButton, Pick<RuleButton, "writeBack" | "action" | "askReason">>();

function div(className: string, ...children: (Node | null)[]): HTMLDivElement {
  const el = document.createElement("div");
  el.className = className;
  for (const child of children) if (child) el.append(child);
  return el;
}

function hint(className: string, text: string): HTMLDivElement {
  const el = div(`kline-hint ${className}`);
  el.textContent = text;
  return el;
}

/** Registers a KUC control's `error` as the place for errors at `path`. */
function errorsAt<T extends HTMLElement & { error: string }>(ctx: EditorContext, path: string, control: T): T {
  control.dataset.errorPath = path;
  ctx.errors.register(path, (message) => {
    control.error = message;
  });
  return control;
}

/** "The record's assignees" and "kintone users", below the LINE-ID recipients. */
export function renderUserRecipients(rule: Rule, ruleIndex: number, ctx: EditorContext): HTMLElement {
  const a = approvalMessages(ctx.language);
  const path = `rules.${ruleIndex}.recipients`;
  const on = rule.recipients.assignees === true;
  const assignees = errorsAt(ctx, `${path}.assignees`, new Checkbox({
    className: "kline-recipient-assignees",
    items: [{ label: a.assignees, value: "assignees", disabled: !ctx.processEnabled && !on }],
    value: on ? ["assignees"] : [],
  }));
  onValue<string[]>(assignees, (value) => {
    if (value.includes("assignees")) rule.recipients.assignees = true;
    else delete rule.recipients.assignees;
    ctx.changed();
  });
  const users = errorsAt(ctx, `${path}.users`, new Text({
    className: "kline-recipient-users",
    label: a.users,
    placeholder: a.usersPlaceholder,
    value: (rule.recipients.users ?? []).join(", "),
  }));
  onValue<string>(users, (value) => {
    const codes = parseUserCodes(value);
    if (codes.length > 0) rule.recipients.users = codes;
    else delete rule.recipients.users;
    ctx.changed();
  }, ["input"]);
  return div("kline-user-recipients",
    div("kline-row", assignees),
    ctx.processEnabled ? null : hint("kline-process-off", a.processOffAssignees),
    div("kline-row", users),
    hint("kline-recipient-users-hint", a.usersHint));
}

/** The app's action names, each once, with the status moves it makes ("Submitted → Approved"). */
function actionItems(ctx: EditorContext): { label: string; value: string }[] {
  const a = approvalMessages(ctx.language);
  const moves = new Map<string, string[]>();
  for (const action of ctx.actions) moves.set(action.name, [...(moves.get(action.name) ?? []), `${action.from} → ${action.to}`]);
  return [...moves].map(([name, list]) => ({ label: a.actionItem(name, list.join(", ")), value: name }));
}

function switchKind(button: RuleButton, to: ButtonKind): void {
  const aside = putAside.get(button) ?? {};
  if (to === "step") {
    putAside.set(button, { ...aside, writeBack: button.writeBack });
    delete button.writeBack;
    // Nothing chosen yet: the admin picks the action (the schema asks for one until then).
    button.action = aside.action ?? "";
    if (aside.askReason) button.askReason = true;
  } else {
    putAside.set(button, { ...aside, action: button.action, askReason: button.askReason });
    delete button.action;
    delete button.askReason;
    if (aside.writeBack) button.writeBack = aside.writeBack;
  }
}

/**
 * A button's "when tapped": write into the record (`writeBackControls()`, the existing editor) or
 * take a process step (the action and "ask for a reason"). A button holding both (edited by
 * hand) shows both, so the validator's "not both" is seen and either can be cleared.
 */
export function renderButtonAction(button: RuleButton, path: string, ctx: EditorContext, writeBackControls: () => HTMLElement): HTMLElement {
  const a = approvalMessages(ctx.language);
  const kind: ButtonKind = button.action !== undefined ? "step" : "writeBack";
  const items = actionItems(ctx);
  const unavailable = !ctx.processEnabled ? a.processOffStep : items.length === 0 ? a.noActions : undefined;
  const kindPicker = new RadioButton({
    className: "kline-button-kind",
    label: a.buttonKind,
    itemLayout: "vertical",
    items: [
      { label: a.kindWriteBack, value: "writeBack" },
      { label: a.kindStep, value: "step", disabled: kind !== "step" && unavailable !== undefined },
    ],
    value: kind,
  });
  onValue<string>(kindPicker, (value) => {
    const next: ButtonKind = value === "step" ? "step" : "writeBack";
    if (next === kind) return;
    switchKind(button, next);
    ctx.restructure();
  });
  const box = div("kline-button-action", kindPicker, unavailable ? hint("kline-step-unavailable", unavailable) : null);
  if (kind === "writeBack") {
    box.append(writeBackControls());
    return box;
  }

  const chosen = button.action ?? "";
  const listed = [{ label: a.chooseAction, value: "" }, ...items];
  // An action the app no longer has stays visible, so that it can be seen and replaced.
  if (chosen !== "" && !items.some((i) => i.value === chosen)) listed.push({ label: `${chosen} (?)`, value: chosen });
  const action = errorsAt(ctx, `${path}.action`, new Dropdown({
    className: "kline-button-step",
    label: a.action,
    items: listed,
    value: chosen,
  }));
  action.style.setProperty("--kuc-dropdown-toggle-width", "320px");
  onValue<string>(action, (value) => {
    button.action = value;
    ctx.changed();
  });
  const askReason = errorsAt(ctx, `${path}.askReason`, new Checkbox({
    className: "kline-button-ask-reason",
    items: [{ label: a.askReason, value: "askReason" }],
    value: button.askReason === true ? ["askReason"] : [],
  }));
  onValue<string[]>(askReason, (value) => {
    if (value.includes("askReason")) button.askReason = true;
    else delete button.askReason;
    ctx.changed();
  });
  box.append(div("kline-row", action), askReason, hint("kline-step-hint", a.stepHint));
  if (button.writeBack !== undefined) box.append(writeBackControls());
  return box;
}
