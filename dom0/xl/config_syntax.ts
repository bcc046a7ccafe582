/**
 * The syntax of xl.cfg files (Xen's `xl.cfg(5)`), without meaning: statements `KEY = VALUE` or
 * `KEY += VALUE`, ended by a newline or `;`; values are strings (double or single quoted, with
 * backslash escapes), integers (decimal or `0x` hex), or lists `[ VALUE, ... ]` that may span
 * lines and end with a trailing comma; `#` starts a comment outside strings.
 *
 * Rules of use: {@link parseStatements} never throws anything but {@link ConfigError}, whose
 * message names the file, the line and (when one was read) the key. What the keys mean is
 * `config.ts`'s business.
 *
 * @module
 */

/** A config file problem, located: `file:line: key: what`. */
export class ConfigError extends Error {
  /** The file (as given). */
  readonly file: string;
  /** 1-based line number (0 when the problem is the file as a whole). */
  readonly line: number;
  /** The key the problem concerns, if one was read. */
  readonly key: string | undefined;

  /** Creates the error; the message is `file:line: key: problem`. */
  constructor(file: string, line: number, key: string | undefined, problem: string) {
    const where = line > 0 ? `${file}:${line}` : file;
    super(key === undefined ? `${where}: ${problem}` : `${where}: ${key}: ${problem}`);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.key = key;
  }
}

/** A value as written. */
export type ConfigValue =
  /** A quoted string, escapes resolved. */
  | { readonly kind: "string"; readonly value: string; readonly line: number }
  /** An integer, as written (`text`) and as a number. */
  | {
    readonly kind: "number";
    readonly value: number;
    readonly text: string;
    readonly line: number;
  }
  /** A list of values. */
  | { readonly kind: "list"; readonly items: ConfigValue[]; readonly line: number };

/** One statement. */
export interface ConfigStatement {
  /** The key. */
  readonly key: string;
  /** `=` sets, `+=` appends (to a list or a string). */
  readonly op: "=" | "+=";
  /** The value. */
  readonly value: ConfigValue;
  /** The line the key is on. */
  readonly line: number;
}

type Token =
  | { kind: "key"; text: string; line: number }
  | { kind: "string"; value: string; line: number }
  | { kind: "number"; text: string; line: number }
  | { kind: "punct"; text: "=" | "+=" | "[" | "]" | "," | ";"; line: number }
  | { kind: "newline"; line: number }
  | { kind: "end"; line: number };

const ESCAPES: Record<string, string> = {
  "\\": "\\",
  '"': '"',
  "'": "'",
  n: "\n",
  t: "\t",
  r: "\r",
};

/** Splits `text` into tokens; throws ConfigError for characters that start nothing. */
function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  // The key of the statement being read (for error messages), and the list nesting depth: a
  // statement ends at a newline only outside lists.
  let key: string | undefined;
  let depth = 0;
  let statementStart = true;
  const fail = (problem: string): never => {
    throw new ConfigError(file, line, key, problem);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      tokens.push({ kind: "newline", line });
      line++;
      i++;
      if (depth === 0) {
        key = undefined;
        statementStart = true;
      }
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length || text[i] === "\n") fail("unterminated string");
        const d = text[i];
        if (d === c) break;
        if (d === "\\") {
          const e = text[i + 1];
          if (e === undefined || !(e in ESCAPES)) {
            fail(`unknown escape ${JSON.stringify("\\" + (e ?? ""))} in a string`);
          }
          value += ESCAPES[e];
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: "string", value, line });
      statementStart = false;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j])) j++;
      const word = text.slice(i, j);
      tokens.push({ kind: "key", text: word, line });
      if (statementStart) key = word;
      statementStart = false;
      i = j;
      continue;
    }
    if (/[0-9-]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z_.]/.test(text[j])) j++;
      tokens.push({ kind: "number", text: text.slice(i, j), line });
      statementStart = false;
      i = j;
      continue;
    }
    if (c === "+" && text[i + 1] === "=") {
      tokens.push({ kind: "punct", text: "+=", line });
      i += 2;
      continue;
    }
    if (c === "=" || c === "[" || c === "]" || c === "," || c === ";") {
      tokens.push({ kind: "punct", text: c, line });
      i++;
      if (c === "[") depth++;
      if (c === "]") depth = Math.max(0, depth - 1);
      if (c === ";" && depth === 0) {
        key = undefined;
        statementStart = true;
      } else {
        statementStart = false;
      }
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: "end", line });
  return tokens;
}

function describe(token: Token): string {
  switch (token.kind) {
    case "key":
      return `word ${JSON.stringify(token.text)}`;
    case "string":
      return `string ${JSON.stringify(token.value)}`;
    case "number":
      return `number ${token.text}`;
    case "punct":
      return `"${token.text}"`;
    case "newline":
      return "end of line";
    case "end":
      return "end of file";
  }
}

/** Parses an integer literal: decimal, or hex with `0x`. Leading zeros are refused (Xen reads them as octal). */
function parseNumber(text: string): number | undefined {
  const match = /^(-?)(0x[0-9a-fA-F]+|0|[1-9][0-9]*)$/.exec(text);
  if (!match) return undefined;
  const magnitude = match[2].startsWith("0x") ? parseInt(match[2].slice(2), 16) : Number(match[2]);
  if (!Number.isSafeInteger(magnitude)) return undefined;
  return match[1] === "-" ? -magnitude : magnitude;
}

/**
 * Parses the statements of an xl.cfg file. `file` names it in errors. Throws {@link ConfigError}
 * for any syntax error.
 */
export function parseStatements(text: string, file: string): ConfigStatement[] {
  if (text.includes("\0")) {
    const line = text.slice(0, text.indexOf("\0")).split("\n").length;
    throw new ConfigError(file, line, undefined, "NUL byte: this is not a text file");
  }
  const tokens = tokenize(text, file);
  const statements: ConfigStatement[] = [];
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];

  const value = (key: string): ConfigValue => {
    const token = next();
    if (token.kind === "string") return { kind: "string", value: token.value, line: token.line };
    if (token.kind === "number") {
      const n = parseNumber(token.text);
      if (n === undefined) {
        throw new ConfigError(
          file,
          token.line,
          key,
          `${JSON.stringify(token.text)} is not an integer (decimal or 0x hex, no leading zeros)`,
        );
      }
      return { kind: "number", value: n, text: token.text, line: token.line };
    }
    if (token.kind === "punct" && token.text === "[") {
      const items: ConfigValue[] = [];
      for (;;) {
        while (peek().kind === "newline") next();
        const t = peek();
        if (t.kind === "punct" && t.text === "]") {
          next();
          return { kind: "list", items, line: token.line };
        }
        if (t.kind === "end") {
          throw new ConfigError(file, token.line, key, "list is never closed with ]");
        }
        const item = value(key);
        if (item.kind === "list") {
          throw new ConfigError(file, item.line, key, "lists inside lists are not allowed");
        }
        items.push(item);
        while (peek().kind === "newline") next();
        const sep = next();
        if (sep.kind === "punct" && sep.text === ",") continue;
        if (sep.kind === "punct" && sep.text === "]") {
          return { kind: "list", items, line: token.line };
        }
        if (sep.kind === "end") {
          throw new ConfigError(file, token.line, key, "list is never closed with ]");
        }
        throw new ConfigError(
          file,
          sep.line,
          key,
          `expected "," or "]" in a list, found ${describe(sep)}`,
        );
      }
    }
    throw new ConfigError(
      file,
      token.line,
      key,
      `expected a value (a quoted string, a number or a [list]), found ${describe(token)}`,
    );
  };

  for (;;) {
    const token = next();
    if (token.kind === "end") break;
    if (token.kind === "newline" || (token.kind === "punct" && token.text === ";")) continue;
    if (token.kind !== "key") {
      throw new ConfigError(
        file,
        token.line,
        undefined,
        `expected a key, found ${describe(token)}`,
      );
    }
    const key = token.text;
    const op = next();
    if (op.kind !== "punct" || (op.text !== "=" && op.text !== "+=")) {
      throw new ConfigError(
        file,
        op.line,
        key,
        `expected "=" after the key, found ${describe(op)}`,
      );
    }
    const v = value(key);
    const end = next();
    if (
      !(end.kind === "newline" || end.kind === "end" || (end.kind === "punct" && end.text === ";"))
    ) {
      throw new ConfigError(
        file,
        end.line,
        key,
        `expected the end of the line after the value, found ${describe(end)}`,
      );
    }
    statements.push({ key, op: op.text, value: v, line: token.line });
    if (end.kind === "end") break;
  }
  return statements;
}
