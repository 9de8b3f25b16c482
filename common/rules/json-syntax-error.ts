/**
 * Where JSON text is broken, said the same way in every JavaScript engine (JSON.parse's messages
 * differ between V8, SpiderMonkey and JavaScriptCore, and V8's often give no position at all).
 * Only called after JSON.parse has failed, so it needs to find the first error, not build values.
 */

export interface JsonSyntaxProblem {
  line: number; // 1-based
  column: number; // 1-based, in UTF-16 code units
  problem: string;
}

class Found extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const describe = (at: number): string => (at >= text.length ? "end of text" : JSON.stringify(text.charAt(at)));
  const fail = (problem: string, at = i): never => {
    throw new Found(at, problem);
  };
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text.charAt(i))) i++;
  };
  const literal = (word: string): void => {
    if (!text.startsWith(word, i)) fail(`unexpected ${describe(i)}, expected a value`);
    i += word.length;
  };
  const string = (): void => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail("control character in a string (line breaks must be written \\n)");
      if (c === 0x5c) {
        const e = text.charAt(i + 1);
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("bad \\u escape");
          i += 6;
        } else if ('"\\/bfnrt'.includes(e) && e !== "") {
          i += 2;
        } else {
          fail(`bad escape \\${e}`);
        }
        continue;
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER_RE.lastIndex = i;
      if (!NUMBER_RE.exec(text)) fail("bad number");
      i = NUMBER_RE.lastIndex;
      return;
    }
    if (c === "'") fail("strings must use double quotes");
    fail(`unexpected ${describe(i)}, expected a value`);
  };
  const object = (): void => {
    i++;
    ws();
    if (text.charAt(i) === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text.charAt(i) !== '"') fail(`unexpected ${describe(i)}, expected a property name in double quotes`);
      string();
      ws();
      if (text.charAt(i) !== ":") fail(`unexpected ${describe(i)}, expected ":"`);
      i++;
      value();
      ws();
      const c = text.charAt(i);
      if (c === ",") {
        i++;
        continue;
      }
      if (c === "}") {
        i++;
        return;
      }
      fail(`unexpected ${describe(i)}, expected "," or "}"`);
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text.charAt(i) === "]") {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      const c = text.charAt(i);
      if (c === ",") {
        i++;
        continue;
      }
      if (c === "]") {
        i++;
        return;
      }
      fail(`unexpected ${describe(i)}, expected "," or "]"`);
    }
  };

  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe(i)} after the end of the value`);
    return undefined;
  } catch (err) {
    if (err instanceof RangeError) return undefined; // nested too deep for the stack: no position
    if (!(err instanceof Found)) throw err;
    const before = text.slice(0, err.offset);
    return {
      line: before.split("\n").length,
      column: err.offset - before.lastIndexOf("\n"),
      problem: err.problem,
    };
  }
}
