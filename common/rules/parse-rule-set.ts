/**
 * The one way into a rule set: from the JSON string (proxy config, relay request) or from an
 * already parsed value. Refusals name the path (`rules[0].buttons[1].label`) and say in plain
 * English what is wrong and why, for the settings page and for the relay's 400 answer.
 */
import type { z } from "zod";
import { checkRuleSet } from "./check-rule-set.js";
import { findJsonSyntaxProblem } from "./json-syntax-error.js";
import { formatPath } from "./path.js";
import { ruleSetSchema } from "./rule-set.js";
import type { RuleSet } from "./rule-set.js";

export interface RuleSetError {
  /** "" for the whole input; else like `rules[0].buttons[1].label`. */
  path: string;
  /** English. */
  message: string;
  /** Japanese, for the mistakes checkRuleSet finds (the settings page shows them in ja). */
  ja?: string;
}

export type ParseRuleSetResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleSetError[] };

type Issue = z.core.$ZodIssue;
type Path = ReadonlyArray<PropertyKey>;

/** `input`: the JSON text of a rule set, or the parsed value. */
export function parseRuleSet(input: string | unknown): ParseRuleSetResult {
  let value: unknown = input;
  if (typeof input === "string") {
    if (input.trim() === "") return fail("", "is empty: expected the JSON text of a rule set");
    try {
      value = JSON.parse(input);
    } catch (err) {
      return fail("", `is not valid JSON: ${describeJsonError(err, input)}`);
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

function fail(path: string, message: string): ParseRuleSetResult {
  return { ok: false, errors: [{ path, message }] };
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
function describeJsonError(err: unknown, text: string): string {
  const found = findJsonSyntaxProblem(text);
  if (found) return `${found.problem} at line ${found.line}, column ${found.column}`;
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

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  record: "an object",
};

/** What a list at this path holds, for "must have at most 3 buttons". */
const LIST_NOUNS: Record<string, string> = {
  rules: "rules",
  buttons: "buttons",
  all: "conditions",
  any: "conditions",
  fields: "fields",
  ids: "IDs",
  actions: "actions",
  from: "statuses",
  to: "statuses",
};

function listNoun(path: Path): string {
  const last = path[path.length - 1];
  return (typeof last === "string" && LIST_NOUNS[last]) || "items";
}

const UNION_HINTS: Record<string, string> = {
  value: "must be a string, a number or a list of strings",
  when: 'must be an object with exactly one of "all" or "any", each a list of conditions',
};

function describeIssue(issue: Issue, prefix: Path, root: unknown): RuleSetError[] {
  const path = [...prefix, ...issue.path];
  const at = (message: string): RuleSetError[] => [{ path: formatPath(path), message }];
  const actual = valueAt(root, path);

  switch (issue.code) {
    case "invalid_type":
      if (actual === undefined) return at("is required");
      return at(`must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${typeName(actual)}`);

    case "too_big": {
      const max = String(issue.maximum);
      if (issue.origin === "string") return at(`must be at most ${max} characters (it has ${String(actual).length})`);
      if (issue.origin === "array") return at(`must have at most ${max} ${listNoun(path)}`);
      return at(`must be at most ${max}`);
    }

    case "too_small": {
      const min = String(issue.minimum);
      if (issue.origin === "string") return at(issue.minimum === 1 ? "must not be empty" : `must be at least ${min} characters`);
      if (issue.origin === "array") return at(`must have at least ${min} ${listNoun(path)}`);
      return at(`must be at least ${min}`);
    }

    case "invalid_format": {
      // Our regexes carry a human message; zod's own messages start with "Invalid".
      const own = !issue.message.startsWith("Invalid");
      const shown = typeof actual === "string" ? ` (got ${JSON.stringify(actual)})` : "";
      return at(own ? `${issue.message}${shown}` : `must match ${issue.pattern ?? issue.format}${shown}`);
    }

    case "invalid_value": {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const got = actual === undefined ? "" : ` (got ${JSON.stringify(actual)})`;
      if (actual === undefined) return at("is required");
      return at(allowed.length === 1 ? `must be ${allowed[0]}${got}` : `must be one of ${allowed.join(", ")}${got}`);
    }

    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: `is not a known property ("${key}" is not part of rule set v1)`,
      }));

    case "invalid_key": {
      // The path ends with the offending key; describe the key itself, not its value.
      const key = String(path[path.length - 1] ?? "");
      return issue.issues.flatMap((inner) =>
        describeIssue(inner, [], key).map((e) => ({ path: formatPath(path), message: `field code ${e.message}` })),
      );
    }

    case "invalid_union": {
      // Pick the one branch whose problems all lie inside the value (it has that branch's shape).
      const inside = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
      if (inside.length === 1 && inside[0]) return inside[0].flatMap((i) => describeIssue(i, path, root));
      const last = path[path.length - 1];
      return at((typeof last === "string" && UNION_HINTS[last]) || "does not match any of the allowed forms");
    }

    default:
      return at(issue.message);
  }
}
