import type { FieldProperties, KintoneRecord } from "../../common/kintone/record.js";
import {
  type ValidationErrors,
  appNotFound,
  assigneeRequired,
  fieldNotFound,
  invalidInput,
  invalidJson,
  noPrivilege,
  notAssignee,
  processManagementDisabled,
  recordNotFound,
  revisionConflict,
  statusActionRejected,
} from "./errors.js";
import {
  type KintoneUser,
  type NormalizeContext,
  USER_FIELD_TYPES,
  emptyValue,
  formatTimestamp,
  holdsValue,
  normalizeDateTime,
  normalizeValue,
} from "./field-values.js";

/**
 * The emulated kintone's state and rules: apps, records, revisions, process management and
 * comments. No HTTP here: kintone-app.ts maps requests onto these methods, and the test controls
 * of kintone-emulator.ts call them directly. Rule violations throw KintoneApiError.
 */

export interface ApiTokenPermissions {
  view: boolean;
  add: boolean;
  edit: boolean;
  delete: boolean;
}

export interface ApiTokenDefinition {
  token: string;
  /** Omitted: view, add, edit and delete. Given: only the permissions set to true. */
  permissions?: Partial<ApiTokenPermissions>;
}

export interface ProcessDefinition {
  enable: boolean;
  /** Status names in display order; the first is the status of a new record. */
  states: string[];
  actions: Array<{ name: string; from: string; to: string }>;
  /**
   * Who becomes the assignee when a record enters a status (status name -> setting; none: nobody).
   * The first status takes none: kintone allows it only the creator, which the emulator does not model.
   */
  assignees?: Record<string, StatusAssignees>;
}

/**
 * A status's assignee setting, as the help's "作業者を設定する" describes the three kinds
 * (https://jp.cybozu.help/k/ja/app/process/set_assignee.html; English:
 * https://us.kintone.help/k/en/app/process/set_assignee):
 * - ONE 「次のユーザーから作業者を選択」: the user running the action into the status picks one of
 *   `users` (`assignee` of Update Status; the emulator picks the only one when there is one);
 * - ANY 「次のユーザーのうち1人」: all of them are assignees; the first to run an action moves the status;
 * - ALL 「次のユーザー全員」: all of them are assignees and each must run the action; the status moves
 *   when the last one does. Until then whoever ran it leaves the record's assignees, and the others stay.
 */
export interface StatusAssignees {
  type: "ONE" | "ANY" | "ALL";
  /** Users, or login names of users added with addUser() before the app. */
  users: Array<KintoneUser | string>;
}

/**
 * Codes of the fields kintone adds to every app. They depend on the language the app was created
 * in; the defaults are a Japanese kintone's (ステータス, not "Status": the status, assignee and
 * category fields are addressed by name and take the display language).
 */
export interface SystemFieldCodes {
  recordNumber: string;
  creator: string;
  modifier: string;
  createdTime: string;
  updatedTime: string;
  status: string;
  assignee: string;
  category: string;
}

export const DEFAULT_SYSTEM_FIELD_CODES: Readonly<SystemFieldCodes> = {
  recordNumber: "レコード番号",
  creator: "作成者",
  modifier: "更新者",
  createdTime: "作成日時",
  updatedTime: "更新日時",
  status: "ステータス",
  assignee: "作業者",
  category: "カテゴリー",
};

export interface KintoneAppDefinition {
  id: number;
  name?: string;
  /** The field whose value is the record title (webhooks' `recordTitle`); default: the first SINGLE_LINE_TEXT. */
  titleField?: string;
  /** User fields only (SUBTABLE with `fields`); kintone's system fields are added. */
  fields: FieldProperties;
  process?: ProcessDefinition;
  apiTokens: ApiTokenDefinition[];
  systemFieldCodes?: Partial<SystemFieldCodes>;
  /**
   * Login names of the users with app management rights. Only they may set the creator, modifier
   * and the two times when adding records as themselves (OAuth); API tokens act as before.
   */
  administrators?: string[];
}

export interface CommentMention {
  code: string;
  type: "USER" | "GROUP" | "ORGANIZATION";
}

export interface RecordComment {
  id: string;
  text: string;
  creator: KintoneUser;
  createdAt: string;
  mentions: CommentMention[];
}

/** Who an API token acts as: kintone shows its changes and comments as this user. */
export const ADMINISTRATOR: Readonly<KintoneUser> = { code: "Administrator", name: "Administrator" };

/** kintone's limits for comments (cybozu.dev "Add Comment"). */
const MAX_COMMENT_LENGTH = 65_535;
const MAX_MENTIONS = 10;

/** One run of a process action: revision +2 ("running the action, and updating the status"). */
const ACTION_REVISION_STEP = 2;
/**
 * One assignee of an ALL status running the action while others still have to: the action is
 * recorded, the status is not updated, so +1 (UNCONFIRMED: no public source shows this case).
 */
const PARTIAL_ACTION_REVISION_STEP = 1;

/** A process whose assignee settings name users, not login names. */
interface ResolvedProcess extends Omit<ProcessDefinition, "assignees"> {
  assignees?: Record<string, { type: StatusAssignees["type"]; users: KintoneUser[] }>;
}

interface AppState {
  id: number;
  name: string;
  titleField: string | undefined;
  fields: FieldProperties;
  process: ResolvedProcess | undefined;
  codes: SystemFieldCodes;
  administrators: ReadonlySet<string>;
  tokens: Map<string, ApiTokenPermissions>;
  /** Settings revision, returned by the form-fields and status-settings APIs. */
  revision: number;
  records: Map<string, KintoneRecord>;
  nextRecordId: number;
  comments: Map<string, RecordComment[]>;
}

type SystemRole = keyof SystemFieldCodes;

export class KintoneStore {
  readonly #apps = new Map<number, AppState>();
  readonly #tokenOwners = new Map<string, number>();
  readonly #users = new Map<string, KintoneUser>([[ADMINISTRATOR.code, { ...ADMINISTRATOR }]]);
  #nextRowId = 1;

  constructor(private readonly now: () => number) {}

  // --- Users ------------------------------------------------------------------------------------

  /** A cybozu.com user (login name `code`), who may log in, authorize OAuth clients and be an assignee. */
  addUser(user: KintoneUser): void {
    if (!user.code || /\s/.test(user.code)) throw new Error(`Invalid login name ${JSON.stringify(user.code)}`);
    if (this.#users.has(user.code)) throw new Error(`User ${user.code} already exists`);
    this.#users.set(user.code, { code: user.code, name: user.name });
  }

  findUser(code: string): KintoneUser | undefined {
    const user = this.#users.get(code);
    return user ? { ...user } : undefined;
  }

  /** Every user, in the order they were added (Administrator first). */
  listUsers(): KintoneUser[] {
    return [...this.#users.values()].map((u) => ({ ...u }));
  }

  /** Whether `userCode` has app management rights on the app. */
  isAppAdministrator(appId: number, userCode: string): boolean {
    return this.#app(appId).administrators.has(userCode);
  }

  addApp(def: KintoneAppDefinition): void {
    if (!Number.isInteger(def.id) || def.id <= 0) throw new Error(`App id must be a positive integer: ${def.id}`);
    if (this.#apps.has(def.id)) throw new Error(`App ${def.id} already exists`);
    const codes = { ...DEFAULT_SYSTEM_FIELD_CODES, ...def.systemFieldCodes };
    checkFields(def.fields, Object.values(codes));
    const process = def.process ? checkProcess(def.process, (ref) => this.#resolveUser(ref)) : undefined;
    for (const code of def.administrators ?? []) {
      if (!this.#users.has(code)) throw new Error(`Administrator ${code} of app ${def.id} is not a user (addUser first)`);
    }
    if (def.titleField !== undefined && !def.fields[def.titleField]) {
      throw new Error(`Title field ${def.titleField} is not a field of app ${def.id}`);
    }

    const tokens = new Map<string, ApiTokenPermissions>();
    for (const { token, permissions } of def.apiTokens) {
      if (!token || /[\s,]/.test(token)) throw new Error(`Invalid API token ${JSON.stringify(token)}`);
      if (this.#tokenOwners.has(token) || tokens.has(token)) throw new Error(`API token ${token} is already used`);
      tokens.set(token, {
        view: permissions ? permissions.view === true : true,
        add: permissions ? permissions.add === true : true,
        edit: permissions ? permissions.edit === true : true,
        delete: permissions ? permissions.delete === true : true,
      });
    }
    for (const token of tokens.keys()) this.#tokenOwners.set(token, def.id);

    this.#apps.set(def.id, {
      id: def.id,
      name: def.name ?? `App ${def.id}`,
      titleField: def.titleField ?? Object.values(def.fields).find((f) => f.type === "SINGLE_LINE_TEXT")?.code,
      fields: structuredClone(def.fields),
      process,
      codes,
      administrators: new Set(def.administrators ?? []),
      tokens,
      revision: 1,
      records: new Map(),
      nextRecordId: 1,
      comments: new Map(),
    });
  }

  systemFieldCodes(appId: number): SystemFieldCodes {
    return { ...this.#app(appId).codes };
  }

  hasApp(appId: number): boolean {
    return this.#apps.has(appId);
  }

  appName(appId: number): string {
    return this.#app(appId).name;
  }

  /** The record's title as kintone shows it (the title field's value as text). */
  recordTitle(appId: number, record: KintoneRecord): string {
    const code = this.#app(appId).titleField;
    const value = code === undefined ? undefined : record[code]?.value;
    return typeof value === "string" ? value : value === null || value === undefined ? "" : JSON.stringify(value);
  }

  /**
   * Runs `work` all-or-nothing: if it throws, the app's records and comments are as before
   * (kintone's bulk APIs commit every record or none; cybozu.dev "複数のレコードを更新する" and the
   * real-tenant recording for bulk status updates).
   */
  atomically<T>(appId: number, work: () => T): T {
    const app = this.#app(appId);
    const records = new Map(app.records);
    const comments = new Map(app.comments);
    const nextRecordId = app.nextRecordId;
    try {
      return work();
    } catch (error) {
      app.records = records;
      app.comments = comments;
      app.nextRecordId = nextRecordId;
      throw error;
    }
  }

  /** The app that issued `token` and what the token may do, or undefined for an unknown token. */
  findToken(token: string): { appId: number; permissions: ApiTokenPermissions } | undefined {
    const appId = this.#tokenOwners.get(token);
    const permissions = appId === undefined ? undefined : this.#apps.get(appId)?.tokens.get(token);
    return appId === undefined || !permissions ? undefined : { appId, permissions: { ...permissions } };
  }

  // --- Records ----------------------------------------------------------------------------------

  /** Add Record: `input` is the request's `{code: {value}}`. Creator fields may be given, as in kintone. */
  addRecord(appId: number, input: unknown, by: KintoneUser): { id: string; revision: string } {
    const app = this.#app(appId);
    const id = String(app.nextRecordId);
    const time = formatTimestamp(this.now());
    const record: KintoneRecord = {};
    for (const [code, prop] of Object.entries(app.fields)) {
      if (holdsValue(prop.type)) record[code] = { type: prop.type, value: emptyValue(prop.type) };
    }
    const c = app.codes;
    record.$id = { type: "__ID__", value: id };
    record.$revision = { type: "__REVISION__", value: "1" };
    record[c.recordNumber] = { type: "RECORD_NUMBER", value: id };
    record[c.creator] = { type: "CREATOR", value: { ...by } };
    record[c.modifier] = { type: "MODIFIER", value: { ...by } };
    record[c.createdTime] = { type: "CREATED_TIME", value: time };
    record[c.updatedTime] = { type: "UPDATED_TIME", value: time };
    if (app.process?.enable) {
      record[c.status] = { type: "STATUS", value: app.process.states[0] };
      record[c.assignee] = { type: "STATUS_ASSIGNEE", value: [] };
    }
    applyInput(app, record, input, "add", () => this.#newRowId());

    app.records.set(id, record);
    app.nextRecordId += 1;
    return { id, revision: "1" };
  }

  getRecord(appId: number, recordId: number | string): KintoneRecord {
    return structuredClone(this.#record(this.#app(appId), recordId));
  }

  /** Every record of the app (copies), oldest first: what the query APIs filter. */
  listRecords(appId: number): KintoneRecord[] {
    return [...this.#app(appId).records.values()].map((record) => structuredClone(record));
  }

  /** Delete Records: the record and its comments; `expectedRevision` as in updateRecord. */
  deleteRecord(appId: number, recordId: number | string, expectedRevision?: number): void {
    const app = this.#app(appId);
    checkRevision(this.#record(app, recordId), expectedRevision);
    app.records.delete(String(recordId));
    app.comments.delete(String(recordId));
  }

  /** Update Record. `expectedRevision` undefined (or -1 at the API) skips the check. */
  updateRecord(
    appId: number,
    recordId: number | string,
    input: unknown,
    expectedRevision: number | undefined,
    by: KintoneUser,
  ): { revision: string } {
    const app = this.#app(appId);
    const current = this.#record(app, recordId);
    checkRevision(current, expectedRevision);
    const next = structuredClone(current);
    applyInput(app, next, input, "update", () => this.#newRowId());
    const revision = this.#touch(app, next, 1, by);
    app.records.set(String(recordId), next);
    return { revision };
  }

  // --- Process management -----------------------------------------------------------------------

  /**
   * Update Status (https://cybozu.dev/ja/kintone/docs/rest-api/records/update-status/): runs
   * `actionName` from the record's current status; an unknown name or one that does not start there
   * is GAIA_IL03. Only an assignee may run it when the record has any (GAIA_NT01, 必要なアクセス権);
   * `assignee` (a login name) picks the next status's assignee when it offers several (GAIA_SA01).
   * In an ALL status (see StatusAssignees) every assignee runs the action: all but the last only
   * leave the assignees (`moved: false`, revision +1); the last moves the status (revision +2).
   */
  runAction(
    appId: number,
    recordId: number | string,
    actionName: string,
    by: KintoneUser,
    expectedRevision?: number,
    assignee?: string,
  ): { revision: string; moved: boolean } {
    const app = this.#app(appId);
    const process = app.process;
    if (!process?.enable) throw processManagementDisabled();
    const record = this.#record(app, recordId);
    checkRevision(record, expectedRevision);
    const status = record[app.codes.status]?.value;
    const action = process.actions.find((a) => a.name === actionName && a.from === status);
    if (!action) throw statusActionRejected();
    const current = (record[app.codes.assignee]?.value ?? []) as KintoneUser[];
    if (current.length > 0 && !current.some((u) => u.code === by.code)) throw notAssignee();
    const next = structuredClone(record);
    const everyoneMustAct = typeof status === "string" && process.assignees?.[status]?.type === "ALL";
    if (everyoneMustAct && current.length > 1) {
      next[app.codes.assignee] = { type: "STATUS_ASSIGNEE", value: current.filter((u) => u.code !== by.code) };
      const revision = this.#touch(app, next, PARTIAL_ACTION_REVISION_STEP, by);
      app.records.set(String(recordId), next);
      return { revision, moved: false };
    }
    next[app.codes.status] = { type: "STATUS", value: action.to };
    next[app.codes.assignee] = { type: "STATUS_ASSIGNEE", value: nextAssignees(process.assignees?.[action.to], assignee) };
    const revision = this.#touch(app, next, ACTION_REVISION_STEP, by);
    app.records.set(String(recordId), next);
    return { revision, moved: true };
  }

  /** Sets the status as stored, nothing else: no action check, revision and times unchanged. */
  setStatus(appId: number, recordId: number | string, status: string): void {
    const app = this.#app(appId);
    if (!app.process?.enable) throw processManagementDisabled();
    if (!app.process.states.includes(status)) throw new Error(`App ${appId} has no status ${JSON.stringify(status)}`);
    this.#record(app, recordId)[app.codes.status] = { type: "STATUS", value: status };
  }

  // --- Comments ---------------------------------------------------------------------------------

  addComment(appId: number, recordId: number | string, comment: unknown, by: KintoneUser): { id: string } {
    const app = this.#app(appId);
    this.#record(app, recordId);
    const { text, mentions } = checkComment(comment);
    const list = app.comments.get(String(recordId)) ?? [];
    const id = String(list.length + 1);
    list.push({ id, text, creator: { ...by }, createdAt: formatTimestamp(this.now()), mentions });
    app.comments.set(String(recordId), list);
    return { id };
  }

  /** Comments of a record, oldest first. */
  comments(appId: number, recordId: number | string): RecordComment[] {
    const app = this.#app(appId);
    this.#record(app, recordId);
    return structuredClone(app.comments.get(String(recordId)) ?? []);
  }

  // --- App settings -----------------------------------------------------------------------------

  /** Get Form Fields: the user fields and the system fields, as kintone lists them. */
  formFields(appId: number): { properties: Record<string, unknown>; revision: string } {
    const app = this.#app(appId);
    const c = app.codes;
    const enabled = app.process?.enable === true;
    const system = (type: string, code: string, extra: Record<string, unknown>) => ({
      [code]: { type, code, label: code, ...extra },
    });
    return {
      properties: {
        ...structuredClone(app.fields),
        ...system("RECORD_NUMBER", c.recordNumber, { noLabel: false }),
        ...system("CREATOR", c.creator, { noLabel: false }),
        ...system("MODIFIER", c.modifier, { noLabel: false }),
        ...system("CREATED_TIME", c.createdTime, { noLabel: false }),
        ...system("UPDATED_TIME", c.updatedTime, { noLabel: false }),
        ...system("STATUS", c.status, { enabled }),
        ...system("STATUS_ASSIGNEE", c.assignee, { enabled }),
        ...system("CATEGORY", c.category, { enabled: false }),
      },
      revision: String(app.revision),
    };
  }

  /** Get Process Management Settings. `states` / `actions` are null for an app that never had it on. */
  processSettings(appId: number): Record<string, unknown> {
    const app = this.#app(appId);
    const process = app.process;
    return {
      enable: process?.enable === true,
      states: process
        ? Object.fromEntries(
            process.states.map((name, index) => {
              const setting = process.assignees?.[name];
              const entities = (setting?.users ?? []).map((u) => ({ entity: { type: "USER", code: u.code }, includeSubs: false }));
              return [name, { name, index: String(index), assignee: { type: setting?.type ?? "ONE", entities } }];
            }),
          )
        : null,
      actions: process
        ? process.actions.map((a) => ({ name: a.name, from: a.from, to: a.to, filterCond: "", type: "PRIMARY" }))
        : null,
      revision: String(app.revision),
    };
  }

  // --- Internals --------------------------------------------------------------------------------

  #app(appId: number): AppState {
    const app = this.#apps.get(appId);
    if (!app) throw appNotFound(appId);
    return app;
  }

  #record(app: AppState, recordId: number | string): KintoneRecord {
    const record = app.records.get(String(recordId));
    if (!record) throw recordNotFound(recordId);
    return record;
  }

  /** Bumps the revision and stamps modifier and update time; returns the new revision. */
  #touch(app: AppState, record: KintoneRecord, step: number, by: KintoneUser): string {
    const revision = String(Number(record.$revision?.value) + step);
    record.$revision = { type: "__REVISION__", value: revision };
    record[app.codes.modifier] = { type: "MODIFIER", value: { ...by } };
    record[app.codes.updatedTime] = { type: "UPDATED_TIME", value: formatTimestamp(this.now()) };
    return revision;
  }

  #newRowId(): string {
    return String(this.#nextRowId++);
  }

  /** A login name must name a user added before; a user given whole is added when new. */
  #resolveUser(ref: KintoneUser | string): KintoneUser {
    if (typeof ref === "string") {
      const user = this.#users.get(ref);
      if (!user) throw new Error(`Assignee ${ref} is not a user (addUser first)`);
      return { ...user };
    }
    if (!this.#users.has(ref.code)) this.#users.set(ref.code, { code: ref.code, name: ref.name });
    return { code: ref.code, name: ref.name };
  }
}

/**
 * Add Record as a user (OAuth): setting the creator, modifier or the two times needs app management
 * rights (https://cybozu.dev/ja/kintone/docs/rest-api/records/add-record/, 必要なアクセス権:
 * 「次のフィールドに値を登録する場合には、アプリ管理権限が必要です。作成者、更新者、作成日時、更新日時」).
 * Without them kintone refuses the request (CB_NO02) rather than ignoring the values.
 */
export function checkUserMaySetSystemFields(store: KintoneStore, appId: number, input: unknown, user: KintoneUser): void {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return;
  const codes = store.systemFieldCodes(appId);
  const restricted = [codes.creator, codes.modifier, codes.createdTime, codes.updatedTime];
  if (Object.keys(input).some((code) => restricted.includes(code)) && !store.isAppAdministrator(appId, user.code)) {
    throw noPrivilege();
  }
}

/** The assignees of a record entering a status with `setting`; `requested` is the request's `assignee`. */
function nextAssignees(
  setting: { type: StatusAssignees["type"]; users: KintoneUser[] } | undefined,
  requested: string | undefined,
): KintoneUser[] {
  const users = setting?.users ?? [];
  if (setting?.type !== "ONE" || users.length <= 1) return structuredClone(users);
  const chosen = users.find((u) => u.code === requested);
  if (!chosen) throw assigneeRequired();
  return [{ ...chosen }];
}

function checkRevision(record: KintoneRecord, expected: number | undefined): void {
  if (expected !== undefined && expected !== -1 && String(expected) !== record.$revision?.value) {
    throw revisionConflict();
  }
}

/** Which system field a code names, if any. */
function systemRole(codes: SystemFieldCodes, code: string): SystemRole | undefined {
  return (Object.keys(codes) as SystemRole[]).find((role) => codes[role] === code);
}

/** On add, kintone lets the creator / modifier and the two times be set (for migrations). */
const SETTABLE_ON_ADD: ReadonlySet<SystemRole> = new Set(["creator", "modifier", "createdTime", "updatedTime"]);

/**
 * Writes the request's `{code: {value}}` into `record`. Unknown codes throw GAIA_FC01, values of
 * the wrong JSON shape CB_IJ01; everything else wrong is collected and thrown as one CB_VA01.
 */
function applyInput(
  app: AppState,
  record: KintoneRecord,
  input: unknown,
  mode: "add" | "update",
  newRowId: () => string,
): void {
  if (input === undefined || input === null) return;
  if (typeof input !== "object" || Array.isArray(input)) throw invalidJson();
  const errors: ValidationErrors = {};
  const readOnly = (code: string) => {
    (errors[`record.${code}.value`] ??= { messages: [] }).messages.push("This field cannot be updated.");
  };

  for (const [code, entry] of Object.entries(input as Record<string, unknown>)) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw invalidJson();
    const raw = (entry as { value?: unknown }).value;

    if (code === "$id" || code === "$revision") {
      readOnly(code);
      continue;
    }
    const role = systemRole(app.codes, code);
    if (role) {
      if (mode === "add" && SETTABLE_ON_ADD.has(role)) setSystemValue(app, record, role, raw, errors);
      else readOnly(code);
      continue;
    }

    const prop = app.fields[code];
    if (!prop || !holdsValue(prop.type)) throw fieldNotFound(code);
    const existing = record[code]?.value;
    const ctx: NormalizeContext = {
      errors,
      newRowId,
      existingRowIds: new Set(Array.isArray(existing) ? existing.map((row: { id?: unknown }) => String(row.id)) : []),
    };
    record[code] = { type: prop.type, value: normalizeValue(prop, raw, { parent: "record", code }, ctx) };
  }

  if (Object.keys(errors).length > 0) throw invalidInput(errors);
}

function setSystemValue(
  app: AppState,
  record: KintoneRecord,
  role: SystemRole,
  raw: unknown,
  errors: ValidationErrors,
): void {
  const code = app.codes[role];
  const field = record[code];
  if (!field || raw === undefined || raw === null) return;
  if (role === "creator" || role === "modifier") {
    const user = raw as { code?: unknown };
    if (typeof user !== "object" || typeof user.code !== "string") throw invalidJson();
    field.value = { code: user.code, name: user.code };
    return;
  }
  const time = typeof raw === "string" ? normalizeDateTime(raw.trim()) : undefined;
  if (time === undefined) {
    (errors[`record[${code}].value`] ??= { messages: [] }).messages.push("Enter a valid date and time.");
    return;
  }
  field.value = time;
}

function checkComment(comment: unknown): { text: string; mentions: CommentMention[] } {
  if (typeof comment !== "object" || comment === null || Array.isArray(comment)) {
    throw invalidInput({ comment: { messages: ["Required field."] } });
  }
  const { text, mentions } = comment as { text?: unknown; mentions?: unknown };
  const errors: ValidationErrors = {};
  if (typeof text !== "string" || text === "") errors["comment.text"] = { messages: ["Required field."] };
  else if (text.length > MAX_COMMENT_LENGTH) {
    errors["comment.text"] = { messages: [`Enter less than ${MAX_COMMENT_LENGTH + 1} characters.`] };
  }
  const list = mentions ?? [];
  if (!Array.isArray(list)) throw invalidJson();
  if (list.length > MAX_MENTIONS) {
    errors["comment.mentions"] = { messages: [`The number of mentions must be ${MAX_MENTIONS} or less.`] };
  }
  const checked = list.map((m: unknown, i): CommentMention => {
    const { code, type } = (m ?? {}) as { code?: unknown; type?: unknown };
    if (typeof code !== "string" || code === "") {
      errors[`comment.mentions[${i}].code`] = { messages: ["Required field."] };
    }
    if (type !== "USER" && type !== "GROUP" && type !== "ORGANIZATION") {
      errors[`comment.mentions[${i}].type`] = { messages: ["must be one of the enum value"] };
    }
    return { code: String(code), type: type as CommentMention["type"] };
  });
  if (Object.keys(errors).length > 0) throw invalidInput(errors);
  return { text: text as string, mentions: checked };
}

function checkFields(fields: FieldProperties, systemCodes: string[], inTable = false): void {
  for (const [code, prop] of Object.entries(fields)) {
    const where = inTable ? "table field" : "field";
    if (prop.code !== code) throw new Error(`The ${where} keyed ${code} has code ${prop.code}`);
    if (!USER_FIELD_TYPES.has(prop.type)) throw new Error(`Field ${code}: type ${prop.type} is not a user field type`);
    if (systemCodes.includes(code) || code.startsWith("$")) throw new Error(`Field code ${code} is reserved`);
    if (prop.type === "SUBTABLE") {
      if (inTable) throw new Error(`Table ${code} is inside a table`);
      checkFields(prop.fields ?? {}, systemCodes, true);
    } else if (prop.fields) {
      throw new Error(`Field ${code}: only a SUBTABLE has fields`);
    }
  }
}

function checkProcess(process: ProcessDefinition, resolveUser: (ref: KintoneUser | string) => KintoneUser): ResolvedProcess {
  const { states, actions } = process;
  if (states.length === 0) throw new Error("Process management needs at least one status");
  if (new Set(states).size !== states.length) throw new Error("Status names must be unique");
  for (const a of actions) {
    if (!states.includes(a.from) || !states.includes(a.to)) {
      throw new Error(`Action ${a.name}: ${a.from} -> ${a.to} names an unknown status`);
    }
  }
  for (const name of Object.keys(process.assignees ?? {})) {
    if (!states.includes(name)) throw new Error(`Assignees for unknown status ${name}`);
    if (name === states[0]) throw new Error(`The first status (${name}) takes no assignees in the emulator`);
  }
  const assignees = process.assignees
    ? Object.fromEntries(
        Object.entries(process.assignees).map(([name, setting]) => {
          if (!["ONE", "ANY", "ALL"].includes(setting.type)) throw new Error(`Status ${name}: unknown assignee type ${setting.type}`);
          return [name, { type: setting.type, users: setting.users.map(resolveUser) }];
        }),
      )
    : undefined;
  return { ...structuredClone({ enable: process.enable, states, actions }), ...(assignees ? { assignees } : {}) };
}
