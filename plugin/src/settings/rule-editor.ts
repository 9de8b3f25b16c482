/**
 * The editor of one rule: kintone-looking controls that edit a draft rule in place. Pickers offer
 * only what fits: the app's own actions and statuses, ops that fit the field, write-back targets
 * of fitting field types. The draft may be invalid while being edited; the page validates it with
 * the shared schema after every change and puts the errors next to these controls.
 */
import { recordWantsLink } from "../../../common/flex/build-flex-message";
import type { FieldProperties, FieldProperty } from "../../../common/kintone/record";
import type { Button as RuleButton, Condition, ConditionOp, Rule } from "../../../common/rules/rule-set";
import type { ErrorBoard } from "./error-paths";
import {
  choiceOptions,
  conditionFields,
  isNumericType,
  opNeedsValue,
  opsForFieldType,
  opTakesList,
  recipientFields,
  timestampFields,
  userNameFields,
  writeBackSetFields,
} from "./field-types";
import { moveItem, renameKey } from "./field-checks";
import { renderButtonAction, renderUserRecipients } from "./approval-editor";
import { Button, Checkbox, Dropdown, MultiChoice, Text, TextArea, onValue } from "./kuc";
import type { SettingsMessages } from "./settings-messages";
import { renderTriggerEditor } from "./trigger-editor";

export interface ProcessAction {
  name: string;
  from: string;
  to: string;
}

export interface EditorContext {
  fields: FieldProperties;
  /** What the preview shows: "record 12" or made-up values. */
  sampleNote: string;
  actions: ProcessAction[];
  statuses: string[];
  /** The app's process management is on: records have assignees, buttons may take its actions. */
  processEnabled: boolean;
  messages: SettingsMessages;
  /** The admin's kintone language (the trigger editor's texts). */
  language: string;
  errors: ErrorBoard;
  /** A value changed: validate and refresh the preview. */
  changed(): void;
  /** The shape changed (rows added or removed): re-render the rules, then validate. */
  restructure(): void;
  removeRule(index: number): void;
}

const fieldItems = (list: FieldProperty[], withNone?: string): { label: string; value: string }[] => [
  ...(withNone !== undefined ? [{ label: withNone, value: "" }] : []),
  ...list.map((f) => ({ label: `${f.label} (${f.code})`, value: f.code })),
];

function div(className: string, ...children: (Node | null)[]): HTMLDivElement {
  const el = document.createElement("div");
  el.className = className;
  for (const child of children) if (child) el.append(child);
  return el;
}

function heading(text: string): HTMLElement {
  const el = document.createElement("h3");
  el.className = "kline-section-title";
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

/** A plain error line, for paths that have no single control (a whole list, a whole rule). */
function errorLine(ctx: EditorContext, path: string): HTMLElement {
  const el = div("kline-error-line");
  el.setAttribute("data-error-path", path);
  ctx.errors.register(path, (message) => {
    el.textContent = message;
    el.hidden = message === "";
  });
  el.hidden = true;
  return el;
}

function conditionList(rule: Rule): Condition[] {
  if (!rule.when) return [];
  return "all" in rule.when ? rule.when.all : rule.when.any;
}

function setConditions(rule: Rule, mode: "all" | "any", list: Condition[]): void {
  if (list.length === 0) delete rule.when;
  else rule.when = mode === "all" ? { all: list } : { any: list };
}

function parseConditionValue(text: string, op: ConditionOp, field: FieldProperty | undefined): Condition["value"] {
  if (opTakesList(op)) {
    return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
  const trimmed = text.trim();
  if (field && isNumericType(field.type) && trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed);
  return text;
}

function renderCondition(rule: Rule, index: number, ruleIndex: number, ctx: EditorContext): HTMLElement {
  const m = ctx.messages;
  const list = conditionList(rule);
  const mode = rule.when && "any" in rule.when ? "any" : "all";
  const condition = list[index] as Condition;
  const path = `rules.${ruleIndex}.when.${mode}.${index}`;
  const fields = conditionFields(ctx.fields);
  const field = ctx.fields[condition.field];

  const fieldPicker = errorsAt(ctx, `${path}.field`, new Dropdown({
    className: "kline-cond-field",
    label: m.field,
    items: fieldItems(fields),
    value: condition.field,
  }));
  onValue<string>(fieldPicker, (code) => {
    condition.field = code;
    const ops = ctx.fields[code] ? opsForFieldType(ctx.fields[code]) : [];
    if (!ops.includes(condition.op)) condition.op = ops[0] ?? "notEmpty";
    ctx.restructure();
  });

  const ops = field ? opsForFieldType(field) : [];
  const opPicker = errorsAt(ctx, `${path}.op`, new Dropdown({
    className: "kline-cond-op",
    label: m.op,
    items: ops.map((op) => ({ label: m.ops[op], value: op })),
    value: ops.includes(condition.op) ? condition.op : "",
  }));
  onValue<string>(opPicker, (op) => {
    condition.op = op as ConditionOp;
    if (!opNeedsValue(condition.op)) delete condition.value;
    else if (opTakesList(condition.op) && !Array.isArray(condition.value)) {
      condition.value = condition.value === undefined || condition.value === "" ? [] : [String(condition.value)];
    } else if (!opTakesList(condition.op) && Array.isArray(condition.value)) {
      condition.value = condition.value[0] ?? "";
    }
    ctx.restructure();
  });

  let valueControl: HTMLElement | null = null;
  if (opNeedsValue(condition.op)) {
    const options = choiceOptions(field);
    if (options.length > 0 && opTakesList(condition.op)) {
      const picker = errorsAt(ctx, `${path}.value`, new MultiChoice({
        className: "kline-cond-value",
        label: m.value,
        items: options.map((o) => ({ label: o, value: o })),
        value: Array.isArray(condition.value) ? condition.value.filter((v) => options.includes(v)) : [],
      }));
      onValue<string[]>(picker, (value) => {
        condition.value = value;
        ctx.changed();
      });
      valueControl = picker;
    } else if (options.length > 0) {
      const picker = errorsAt(ctx, `${path}.value`, new Dropdown({
        className: "kline-cond-value",
        label: m.value,
        items: [{ label: m.none, value: "" }, ...options.map((o) => ({ label: o, value: o }))],
        value: typeof condition.value === "string" && options.includes(condition.value) ? condition.value : "",
      }));
      onValue<string>(picker, (value) => {
        condition.value = value;
        ctx.changed();
      });
      valueControl = picker;
    } else {
      const text = errorsAt(ctx, `${path}.value`, new Text({
        className: "kline-cond-value",
        label: opTakesList(condition.op) ? `${m.value} (${m.valueListHint})` : m.value,
        value: Array.isArray(condition.value) ? condition.value.join(", ") : condition.value === undefined ? "" : String(condition.value),
        placeholder: field?.type === "DATE" ? "2026-04-01" : field?.type === "DATETIME" ? "2026-04-01T09:00:00+09:00" : "",
      }));
      onValue<string>(text, (value) => {
        condition.value = parseConditionValue(value, condition.op, field);
        ctx.changed();
      }, ["input"]);
      valueControl = text;
    }
  }

  const remove = new Button({ className: "kline-cond-remove", text: m.remove, type: "normal" });
  remove.addEventListener("click", () => {
    setConditions(rule, mode, list.filter((_, i) => i !== index));
    ctx.restructure();
  });
  const row = div("kline-condition", fieldPicker, opPicker, valueControl, remove);
  row.setAttribute("data-path", path);
  return div("kline-condition-wrap", row, errorLine(ctx, path));
}

function fieldLabel(ctx: EditorContext, code: string): string {
  const field = Object.hasOwn(ctx.fields, code) ? ctx.fields[code] : undefined;
  return field ? `${field.label} (${field.code})` : `${code} (?)`;
}

function iconButton(className: string, text: string, label: string, onClick: () => void, disabled = false): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `kline-icon-button ${className}`;
  button.textContent = text;
  button.title = label;
  button.setAttribute("aria-label", label);
  button.disabled = disabled;
  button.addEventListener("click", onClick);
  return button;
}

/**
 * "Fields shown": the chosen fields as an ordered list (the order of the rows in the LINE message)
 * with up / down / remove on each, and a picker that appends a field.
 */
function renderMessageFields(rule: Rule, ruleIndex: number, ctx: EditorContext): HTMLElement {
  const m = ctx.messages;
  const path = `rules.${ruleIndex}.message.fields`;
  const box = div("kline-message-fields");
  const label = document.createElement("div");
  label.className = "kline-label";
  label.textContent = m.messageFields;
  const list = document.createElement("ol");
  list.className = "kline-field-order";
  const none = div("kline-hint kline-field-order-none");
  none.textContent = m.messageFieldsNone;
  const add = errorsAt(ctx, path, new Dropdown({ className: "kline-message-field-add", label: m.addMessageField, items: [], value: "" }));

  const update = (next: string[], focus?: { code: string; className: string }): void => {
    rule.message.fields = next;
    draw();
    ctx.changed();
    if (focus) {
      const target = list.querySelector<HTMLButtonElement>(`li[data-code="${CSS.escape(focus.code)}"] .${focus.className}`);
      if (target && !target.disabled) target.focus();
      else list.querySelector<HTMLButtonElement>(`li[data-code="${CSS.escape(focus.code)}"] button:not([disabled])`)?.focus();
    }
  };

  function draw(): void {
    ctx.errors.forgetBelow(path);
    const chosen = rule.message.fields;
    list.replaceChildren(
      ...chosen.map((code, k) => {
        const item = document.createElement("li");
        item.className = "kline-field-item";
        item.dataset.code = code;
        const name = document.createElement("span");
        name.className = "kline-field-name";
        name.textContent = fieldLabel(ctx, code);
        const error = errorLine(ctx, `${path}.${k}`);
        item.append(
          name,
          iconButton("kline-move-up", "↑", `${m.moveUp}: ${name.textContent}`, () => update(moveItem(rule.message.fields, k, -1), { code, className: "kline-move-up" }), k === 0),
          iconButton("kline-move-down", "↓", `${m.moveDown}: ${name.textContent}`, () => update(moveItem(rule.message.fields, k, 1), { code, className: "kline-move-down" }), k === chosen.length - 1),
          iconButton("kline-field-remove", "×", `${m.remove}: ${name.textContent}`, () => update(rule.message.fields.filter((_, i) => i !== k))),
          error,
        );
        return item;
      }),
    );
    list.hidden = chosen.length === 0;
    none.hidden = chosen.length > 0;
    const free = conditionFields(ctx.fields).filter((f) => !chosen.includes(f.code));
    add.items = fieldItems(free, m.chooseField);
    add.value = "";
    add.disabled = free.length === 0 || chosen.length >= 30;
  }

  onValue<string>(add, (code) => {
    if (code && !rule.message.fields.includes(code)) update([...rule.message.fields, code]);
  });
  draw();
  box.append(label, list, none, add);
  return box;
}

/**
 * A button's `writeBack.set`: one row per field (a field that takes a text value, and the value:
 * an option for a choice field, text otherwise), each removable, and a picker that adds a field.
 */
function renderWriteBackSet(
  button: RuleButton,
  path: string,
  ctx: EditorContext,
  writeBack: () => NonNullable<RuleButton["writeBack"]>,
  tidy: () => void,
): HTMLElement {
  const m = ctx.messages;
  const setPath = `${path}.writeBack.set`;
  const box = div("kline-wb-set");
  const title = document.createElement("div");
  title.className = "kline-label";
  title.textContent = m.writeBackSetTitle;
  const rows = div("kline-wb-pairs");
  const none = div("kline-hint kline-wb-set-none");
  none.textContent = m.writeBackSetNone;
  const add = errorsAt(ctx, setPath, new Dropdown({ className: "kline-wb-set-add", label: m.addWriteBackSet, items: [], value: "" }));
  const settable = writeBackSetFields(ctx.fields);

  const apply = (next: Record<string, string>): void => {
    writeBack().set = next;
    tidy();
  };
  const current = (): Record<string, string> => ({ ...(button.writeBack?.set ?? {}) });
  const firstValue = (code: string): string => {
    const field = Object.hasOwn(ctx.fields, code) ? ctx.fields[code] : undefined;
    return choiceOptions(field)[0] ?? "";
  };

  function valueControl(code: string, value: string): HTMLElement & { error: string } {
    const field = Object.hasOwn(ctx.fields, code) ? ctx.fields[code] : undefined;
    const options = choiceOptions(field);
    const valuePath = `${setPath}.${code}`;
    if (options.length > 0) {
      const items = [
        ...(field?.type === "DROP_DOWN" ? [{ label: m.emptyValue, value: "" }] : []),
        ...options.map((o) => ({ label: o, value: o })),
      ];
      if (!items.some((i) => i.value === value)) items.push({ label: `${value} (?)`, value });
      const picker = errorsAt(ctx, valuePath, new Dropdown({ className: "kline-wb-set-value", label: m.writeBackValue, items, value }));
      onValue<string>(picker, (next) => {
        apply({ ...current(), [code]: next });
        ctx.changed();
      });
      return picker;
    }
    const text = errorsAt(ctx, valuePath, new Text({ className: "kline-wb-set-value", label: m.writeBackValue, value }));
    onValue<string>(text, (next) => {
      apply({ ...current(), [code]: next });
      ctx.changed();
    }, ["input"]);
    return text;
  }

  function draw(): void {
    ctx.errors.forgetBelow(setPath);
    const pairs = Object.entries(button.writeBack?.set ?? {});
    const used = new Set(pairs.map(([code]) => code));
    rows.replaceChildren(
      ...pairs.map(([code, value]) => {
        const choices = settable.filter((f) => f.code === code || !used.has(f.code));
        const items = fieldItems(choices);
        if (!items.some((i) => i.value === code)) items.push({ label: fieldLabel(ctx, code), value: code });
        const fieldPicker = new Dropdown({ className: "kline-wb-set-field", label: m.writeBackSet, items, value: code });
        fieldPicker.dataset.errorPath = `${setPath}.${code}`;
        onValue<string>(fieldPicker, (next) => {
          if (next === code) return;
          const renamed = renameKey(current(), code, next);
          renamed[next] = firstValue(next);
          apply(renamed);
          draw();
          ctx.changed();
        });
        const remove = iconButton("kline-wb-set-remove", "×", `${m.remove}: ${fieldLabel(ctx, code)}`, () => {
          const next = current();
          delete next[code];
          apply(next);
          draw();
          ctx.changed();
        });
        const row = div("kline-row kline-wb-pair", fieldPicker, valueControl(code, value), remove);
        row.dataset.code = code;
        return row;
      }),
    );
    none.hidden = pairs.length > 0;
    const free = settable.filter((f) => !used.has(f.code));
    add.items = fieldItems(free, m.chooseField);
    add.value = "";
    add.disabled = free.length === 0;
  }

  onValue<string>(add, (code) => {
    if (!code) return;
    apply({ ...current(), [code]: firstValue(code) });
    draw();
    ctx.changed();
    rows.querySelector<HTMLElement>(`.kline-wb-pair[data-code="${CSS.escape(code)}"] .kline-wb-set-value input`)?.focus();
  });
  draw();
  box.append(title, rows, none, add);
  return box;
}

function renderButtonEditor(rule: Rule, index: number, ruleIndex: number, ctx: EditorContext): HTMLElement {
  const m = ctx.messages;
  const button = rule.buttons[index] as RuleButton;
  const path = `rules.${ruleIndex}.buttons.${index}`;

  const id = errorsAt(ctx, `${path}.id`, new Text({ className: "kline-button-id", label: m.buttonId, value: button.id, requiredIcon: true }));
  onValue<string>(id, (value) => {
    button.id = value.trim();
    ctx.changed();
  }, ["input"]);
  const label = errorsAt(ctx, `${path}.label`, new Text({ className: "kline-button-label", label: m.buttonLabel, value: button.label, requiredIcon: true }));
  onValue<string>(label, (value) => {
    button.label = value;
    ctx.changed();
  }, ["input"]);
  const reply = errorsAt(ctx, `${path}.reply`, new TextArea({ className: "kline-button-reply", label: m.buttonReply, value: button.reply ?? "" }));
  onValue<string>(reply, (value) => {
    if (value.trim() === "") delete button.reply;
    else button.reply = value;
    ctx.changed();
  }, ["input"]);

  const remove = new Button({ className: "kline-button-remove", text: m.removeButton, type: "normal" });
  remove.addEventListener("click", () => {
    rule.buttons.splice(index, 1);
    ctx.restructure();
  });
  const head = document.createElement("h4");
  head.className = "kline-button-head";
  head.textContent = m.buttonN(index + 1);
  const card = div("kline-button-editor",
    head,
    div("kline-row", id, label, remove),
    div("kline-row", reply),
    // Write into the record (below), or take a process step as the tapping user: approval-editor.ts.
    renderButtonAction(button, path, ctx, () => renderWriteBackControls(button, path, ctx)),
    errorLine(ctx, path));
  card.setAttribute("data-path", path);
  return card;
}

/** What a tap writes into the record: fields to set, the time, the LINE name, a comment. */
function renderWriteBackControls(button: RuleButton, path: string, ctx: EditorContext): HTMLElement {
  const m = ctx.messages;
  const writeBack = (): NonNullable<RuleButton["writeBack"]> => (button.writeBack ??= {});
  const tidyWriteBack = (): void => {
    const wb = button.writeBack;
    if (!wb) return;
    if (wb.set && Object.keys(wb.set).length === 0) delete wb.set;
    if (Object.keys(wb).length === 0) delete button.writeBack;
  };
  const setPairs = renderWriteBackSet(button, path, ctx, writeBack, tidyWriteBack);

  const timestamp = errorsAt(ctx, `${path}.writeBack.timestampField`, new Dropdown({
    className: "kline-wb-timestamp",
    label: m.writeBackTimestamp,
    items: fieldItems(timestampFields(ctx.fields), m.none),
    value: button.writeBack?.timestampField ?? "",
  }));
  onValue<string>(timestamp, (code) => {
    if (code) writeBack().timestampField = code;
    else delete writeBack().timestampField;
    tidyWriteBack();
    ctx.changed();
  });
  const user = errorsAt(ctx, `${path}.writeBack.userField`, new Dropdown({
    className: "kline-wb-user",
    label: m.writeBackUser,
    items: fieldItems(userNameFields(ctx.fields), m.none),
    value: button.writeBack?.userField ?? "",
  }));
  onValue<string>(user, (code) => {
    if (code) writeBack().userField = code;
    else delete writeBack().userField;
    tidyWriteBack();
    ctx.changed();
  });
  const comment = errorsAt(ctx, `${path}.writeBack.comment`, new Text({
    className: "kline-wb-comment",
    label: m.writeBackComment,
    value: button.writeBack?.comment ?? "",
  }));
  onValue<string>(comment, (value) => {
    if (value.trim()) writeBack().comment = value;
    else delete writeBack().comment;
    tidyWriteBack();
    ctx.changed();
  }, ["input"]);

  return div("kline-write-back",
    setPairs,
    div("kline-row", timestamp, user),
    div("kline-row", comment),
    errorLine(ctx, `${path}.writeBack`));
}

/** Renders rule `ruleIndex`; `preview` is the element the page fills with the message preview. */
export function renderRuleEditor(rule: Rule, ruleIndex: number, ctx: EditorContext): { card: HTMLElement; preview: HTMLElement } {
  const m = ctx.messages;
  const path = `rules.${ruleIndex}`;
  const statusItems = ctx.statuses.map((s) => ({ label: s, value: s }));
  const actionItems = [...new Set(ctx.actions.map((a) => a.name))].map((a) => ({ label: a, value: a }));

  const name = errorsAt(ctx, `${path}.name`, new Text({ className: "kline-rule-name", label: m.ruleName, value: rule.name ?? "" }));
  onValue<string>(name, (value) => {
    if (value.trim()) rule.name = value;
    else delete rule.name;
    ctx.changed();
  }, ["input"]);
  const id = errorsAt(ctx, `${path}.id`, new Text({ className: "kline-rule-id", label: m.ruleId, value: rule.id, requiredIcon: true }));
  onValue<string>(id, (value) => {
    rule.id = value.trim();
    ctx.changed();
  }, ["input"]);
  const remove = new Button({ className: "kline-rule-remove", text: m.removeRule, type: "alert" });
  remove.addEventListener("click", () => ctx.removeRule(ruleIndex));

  const multi = (key: "actions" | "from" | "to", label: string, list: { label: string; value: string }[]): MultiChoice => {
    // Keep values the app no longer has visible, so that they can be seen and removed.
    const known = new Set(list.map((i) => i.value));
    const extra = rule.trigger[key].filter((v) => !known.has(v)).map((v) => ({ label: `${v} (?)`, value: v }));
    const control = errorsAt(ctx, `${path}.trigger.${key}`, new MultiChoice({
      className: `kline-trigger-${key}`,
      label,
      items: [...list, ...extra],
      value: rule.trigger[key],
    }));
    onValue<string[]>(control, (value) => {
      rule.trigger[key] = value;
      ctx.changed();
    });
    return control;
  };

  const mode = rule.when && "any" in rule.when ? "any" : "all";
  const modePicker = new Dropdown({
    className: "kline-cond-mode",
    items: [{ label: m.matchAll, value: "all" }, { label: m.matchAny, value: "any" }],
    value: mode,
  });
  onValue<string>(modePicker, (value) => {
    setConditions(rule, value === "any" ? "any" : "all", conditionList(rule));
    ctx.restructure();
  });
  const conditions = div("kline-conditions");
  conditionList(rule).forEach((_, i) => conditions.append(renderCondition(rule, i, ruleIndex, ctx)));
  const addCondition = new Button({ className: "kline-cond-add", text: m.addCondition });
  addCondition.addEventListener("click", () => {
    const first = conditionFields(ctx.fields)[0];
    const ops = first ? opsForFieldType(first) : [];
    const op: ConditionOp = ops[0] ?? "notEmpty";
    const condition: Condition = { field: first?.code ?? "", op };
    if (opNeedsValue(op)) condition.value = opTakesList(op) ? [] : "";
    setConditions(rule, mode, [...conditionList(rule), condition]);
    ctx.restructure();
  });

  const recipientFieldPicker = errorsAt(ctx, `${path}.recipients.fields`, new MultiChoice({
    className: "kline-recipient-fields",
    label: m.recipientFields,
    items: fieldItems(recipientFields(ctx.fields)),
    value: rule.recipients.fields,
  }));
  onValue<string[]>(recipientFieldPicker, (value) => {
    rule.recipients.fields = value;
    ctx.changed();
  });
  const recipientIds = errorsAt(ctx, `${path}.recipients.ids`, new TextArea({
    className: "kline-recipient-ids",
    label: m.recipientIds,
    value: rule.recipients.ids.join("\n"),
  }));
  onValue<string>(recipientIds, (value) => {
    rule.recipients.ids = value.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "");
    ctx.changed();
  }, ["input"]);

  const title = errorsAt(ctx, `${path}.message.title`, new Text({
    className: "kline-message-title",
    label: m.messageTitle,
    placeholder: m.messageTitleHint,
    value: rule.message.title,
    requiredIcon: true,
  }));
  onValue<string>(title, (value) => {
    rule.message.title = value;
    ctx.changed();
  }, ["input"]);
  const messageFields = renderMessageFields(rule, ruleIndex, ctx);
  const options = new Checkbox({
    className: "kline-rule-options",
    items: [
      { label: m.audienceStaff, value: "staff" },
      { label: m.recordLink, value: "recordLink" },
      { label: m.blockOnFailure, value: "blockOnFailure" },
    ],
    value: [
      ...(rule.audience === "staff" ? ["staff"] : []),
      ...(recordWantsLink(rule) ? ["recordLink"] : []),
      ...(rule.blockOnFailure ? ["blockOnFailure"] : []),
    ],
  });
  onValue<string[]>(options, (value) => {
    const staff = value.includes("staff");
    if (staff !== (rule.audience === "staff")) {
      // A new audience brings its default: the kintone link for staff, none for customers.
      if (staff) rule.audience = "staff";
      else delete rule.audience;
      delete rule.message.recordLink;
      options.value = [...(staff ? ["staff"] : []), ...(recordWantsLink(rule) ? ["recordLink"] : []), ...value.filter((v) => v === "blockOnFailure")];
    } else {
      rule.message.recordLink = value.includes("recordLink");
    }
    if (value.includes("blockOnFailure")) rule.blockOnFailure = true;
    else delete rule.blockOnFailure;
    ctx.changed();
  });

  const buttons = div("kline-buttons");
  rule.buttons.forEach((_, i) => buttons.append(renderButtonEditor(rule, i, ruleIndex, ctx)));
  const addButton = new Button({ className: "kline-button-add", text: m.addButton });
  addButton.disabled = rule.buttons.length >= 3;
  addButton.addEventListener("click", () => {
    const used = new Set(rule.buttons.map((b) => b.id));
    let n = rule.buttons.length + 1;
    while (used.has(`b${n}`)) n++;
    rule.buttons.push({ id: `b${n}`, label: "" });
    ctx.restructure();
  });

  const preview = div("kline-preview");
  const form = div("kline-rule-form",
    div("kline-row", name, id),
    errorLine(ctx, path),
    heading(m.trigger),
    // A process action (these pickers) or a date reminder: trigger-editor.ts.
    renderTriggerEditor(rule, ruleIndex, ctx, () =>
      div("kline-row", multi("actions", m.actions, actionItems), multi("from", m.from, statusItems), multi("to", m.to, statusItems))),
    errorLine(ctx, `${path}.trigger`),
    heading(m.conditions),
    div("kline-row", modePicker),
    conditions,
    addCondition,
    errorLine(ctx, `${path}.when`),
    heading(m.recipients),
    div("kline-row", recipientFieldPicker, recipientIds),
    renderUserRecipients(rule, ruleIndex, ctx),
    errorLine(ctx, `${path}.recipients`),
    heading(m.message),
    div("kline-row", title),
    div("kline-row", messageFields),
    options,
    errorLine(ctx, `${path}.message`),
    heading(m.buttons),
    buttons,
    addButton,
    errorLine(ctx, `${path}.buttons`),
    // Far from the rule ID, at the end of the rule; a removal can be undone (admin-notices.ts).
    div("kline-row kline-rule-remove-row", remove));
  const sampleNote = div("kline-hint kline-preview-sample");
  sampleNote.textContent = ctx.sampleNote;
  const card = div("kline-rule", form, div("kline-preview-pane", heading(m.preview), preview, sampleNote));
  card.setAttribute("data-rule-index", String(ruleIndex));
  return { card, preview };
}
