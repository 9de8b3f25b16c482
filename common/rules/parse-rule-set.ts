/**
 * The one way into a rule set: from the JSON string (proxy config, relay request) or from an
 * already parsed value. Refusals name the path (`rules[0].buttons[1].label`) and say in plain
 * words what is wrong and why, in English and Japanese (common/i18n/rule-problems.ts), for the
 * settings page and for the relay's 400 answer.
 */
import type { z } from "zod";
import { checkRuleSet } from "./check-rule-set.js";
import { findJsonSyntaxProblem } from "./json-syntax-error.js";
import { formatPath } from "./path.js";
import { SCHEMA_PROBLEM_CATALOGUE, type ListNoun, type SchemaProblemTexts, type ValueKind } from "../i18n/rule-problems.js";
import { ruleSetSchema } from "./rule-set.js";
import type { RuleSet } from "./rule-set.js";

export interface RuleSetError {
  /** "" for the whole input; else like `rules[0].buttons[1].label`. */
  path: string;
  /** English. */
  message: string;
  /** Japanese: the same refusal in the words the settings page shows a Japanese admin. */
  ja?: string;
}

export type ParseRuleSetResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleSetError[] };

type Issue = z.core.$ZodIssue;
type Path = ReadonlyArray<PropertyKey>;
type Say = (texts: SchemaProblemTexts) => string;

/** `input`: the JSON text of a rule set, or the parsed value. */
export function parseRuleSet(input: string | unknown): ParseRuleSetResult {
  let value: unknown = input;
  if (typeof input === "string") {
    if (input.trim() === "") return fail("", (t) => t.emptyInput);
    try {
      value = JSON.parse(input);
    } catch (err) {
      return fail("", (t) => t.notJson(describeJsonError(err, input, t === SCHEMA_PROBLEM_CATALOGUE.ja)));
    }
  }
  const result = ruleSetSchema.safeParse(value);
  if (result.success) {
    // What the relay can judge without the app's form: LINE ID format, someone to send to.
    const problems = checkRuleSet(result.data);
    return problems.length === 0 ? { ok: true, ruleSet: result.data } : { ok: false, errors: problems };
  }
  const errors = result.error.issues.flatMap((issue) => describeIssue(issue, [], value));
  return { ok: false, errors: dedupe(errors) };
}

function problem(path: string, say: Say): RuleSetError {
  return { path, message: say(SCHEMA_PROBLEM_CATALOGUE.en), ja: say(SCHEMA_PROBLEM_CATALOGUE.ja) };
}

function fail(path: string, say: Say): ParseRuleSetResult {
  return { ok: false, errors: [problem(path, say)] };
}

function dedupe(errors: RuleSetError[]): RuleSetError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where and why, the same in every engine; the engine's own words only as a fallback. */
function describeJsonError(err: unknown, text: string, ja: boolean): string {
  const found = findJsonSyntaxProblem(text);
  if (found) return ja ? `${found.line}行目${found.column}文字目：${found.problem}` : `${found.problem} at line ${found.line}, column ${found.column}`;
  return err instanceof Error ? err.message : String(err);
}

export { formatPath };

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    if (typeof key === "symbol" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function kindOf(value: unknown): ValueKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      return "object";
    default:
      return "other";
  }
}

/** What a list at this path holds, for "must have at most 3 buttons". */
const LIST_NOUNS: Record<string, ListNoun> = {
  rules: "rules",
  buttons: "buttons",
  all: "conditions",
  any: "conditions",
  fields: "fields",
  ids: "IDs",
  users: "users",
  actions: "actions",
  from: "statuses",
  to: "statuses",
};

function listNoun(path: Path): ListNoun {
  const last = path[path.length - 1];
  return (typeof last === "string" && LIST_NOUNS[last]) || "items";
}

const UNION_HINTS: Record<string, Say> = {
  value: (t) => t.unionValue,
  when: (t) => t.unionWhen,
};

/**
 * The schema's own messages (common/rules/rule-set.ts), recognised so that they are said in
 * Japanese too; one the catalogue does not know stays in English in both.
 */
function ownMessage(message: string, actual: unknown): Say {
  const value = typeof actual === "string" ? JSON.stringify(actual) : "";
  if (message.startsWith("must be 1-32 of")) return (t) => t.ruleIdFormat(value);
  if (message.startsWith("must be HH:MM")) return (t) => t.timeFormat(value);
  const duplicateRule = /^duplicate rule id "(.*)"$/.exec(message);
  if (duplicateRule) return (t) => t.duplicateRuleId(duplicateRule[1] ?? "");
  const duplicateButton = /^duplicate button id "(.*)"$/.exec(message);
  if (duplicateButton) return (t) => t.duplicateButtonId(duplicateButton[1] ?? "");
  if (message.startsWith("a schedule trigger takes no")) return (t) => t.scheduleNoStatus;
  const needsValue = /^op "(.*)" needs a value$/.exec(message);
  if (needsValue) return (t) => t.opNeedsValue(needsValue[1] ?? "");
  return () => message;
}

function describeIssue(issue: Issue, prefix: Path, root: unknown): RuleSetError[] {
  const path = [...prefix, ...issue.path];
  const at = (say: Say): RuleSetError[] => [problem(formatPath(path), say)];
  const actual = valueAt(root, path);

  switch (issue.code) {
    case "invalid_type":
      if (actual === undefined) return at((t) => t.required);
      return at((t) => t.mustBe(issue.expected, kindOf(actual)));

    case "too_big": {
      const max = String(issue.maximum);
      if (issue.origin === "string") return at((t) => t.tooLong(max, String(actual).length));
      if (issue.origin === "array") return at((t) => t.tooMany(max, listNoun(path)));
      return at((t) => t.tooBig(max));
    }

    case "too_small": {
      const min = String(issue.minimum);
      if (issue.origin === "string") return at((t) => (issue.minimum === 1 ? t.empty : t.tooShort(min)));
      if (issue.origin === "array") return at((t) => t.tooFew(min, listNoun(path)));
      return at((t) => t.tooSmall(min));
    }

    case "invalid_format": {
      // Our regexes carry a human message; zod's own messages start with "Invalid".
      if (!issue.message.startsWith("Invalid")) return at(ownMessage(issue.message, actual));
      const shown = typeof actual === "string" ? JSON.stringify(actual) : "";
      return at((t) => t.pattern(issue.pattern ?? issue.format, shown));
    }

    case "invalid_value": {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      if (actual === undefined) return at((t) => t.required);
      return at((t) => t.oneOf(allowed, JSON.stringify(actual)));
    }

    case "unrecognized_keys":
      return issue.keys.map((key) => problem(formatPath([...path, key]), (t) => t.unknownKey(key)));

    case "invalid_key": {
      // The path ends with the offending key; describe the key itself, not its value.
      const key = String(path[path.length - 1] ?? "");
      return issue.issues.flatMap((inner) =>
        describeIssue(inner, [], key).map((e) => ({
          path: formatPath(path),
          message: SCHEMA_PROBLEM_CATALOGUE.en.fieldCode(e.message),
          ja: SCHEMA_PROBLEM_CATALOGUE.ja.fieldCode(e.ja ?? e.message),
        })),
      );
    }

    case "invalid_union": {
      // Pick the one branch whose problems all lie inside the value (it has that branch's shape).
      const inside = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
      if (inside.length === 1 && inside[0]) return inside[0].flatMap((i) => describeIssue(i, path, root));
      const last = path[path.length - 1];
      return at((typeof last === "string" && UNION_HINTS[last]) || ((t) => t.noForm));
    }

    default:
      return at(ownMessage(issue.message, actual));
  }
}
