/**
 * Text from elsewhere (a builder's stderr, a peer's name, an error message) made safe to print: on a
 * terminal, in a GitHub Actions log, and inside a workflow command. Every line dnb prints passes
 * through `printable` (core/log.ts sees to it), so no caller can forget.
 */

/** How much of one log line is shown: far above any line dnb writes itself, far below what could flood a log. */
export const LINE_MAX = 4096;
/** How much of a multi-line message (an error, with the stderr it quotes) is shown. */
export const MESSAGE_MAX = 16384;

/**
 * Shown as escapes (`\x1b`, `\u202e`): C0 controls but tab and newline, DEL, C1 controls, the bidirectional
 * overrides and isolates that make a line read otherwise than it is, and the Unicode line and paragraph
 * separators. Newline and carriage return are handled apart.
 */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function escapeCharacter(character: string): string {
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** The first `max` UTF-16 units, not splitting a surrogate pair, and how many were left off. */
function bounded(text: string, max: number): { kept: string; dropped: number } {
  if (text.length <= max) return { kept: text, dropped: 0 };
  const cut = /[\ud800-\udbff]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return { kept: text.slice(0, cut), dropped: text.length - cut };
}

/**
 * The GitHub runner reads a line as a workflow command when it starts with `::` after leading white space
 * (`::add-mask::…`), and as a legacy command when it holds `##[` anywhere (`##[stop-commands]…`); it ends a
 * line at `\n` and at a bare `\r`. A backslash breaks both markers: `\::add-mask::x` and `##\[error]x` are
 * shown, never obeyed. dnb's own commands are formatted after this (core/actions.ts workflowCommand).
 */
function defuseCommands(text: string): string {
  return text.replaceAll("##[", "##\\[").replace(/^(\s*)::/gm, "$1\\::");
}

/**
 * `text` as dnb prints it: control and bidirectional characters as visible escapes, lone surrogates as
 * U+FFFD, workflow-command markers broken, and at most `max` characters of the original kept (then how many
 * were left off). One line unless `multiline`: then `\n` (and `\r\n`) still ends a line, and a bare `\r` is
 * escaped all the same. Ordinary text comes out as it went in.
 */
export function printable(text: string, options: { multiline?: boolean; max?: number } = {}): string {
  const multiline = options.multiline ?? false;
  const { kept, dropped } = bounded(multiline ? text.replaceAll("\r\n", "\n") : text, options.max ?? LINE_MAX);
  const escaped = kept.toWellFormed().replace(UNSAFE, escapeCharacter).replaceAll("\r", "\\r");
  return defuseCommands(multiline ? escaped : escaped.replaceAll("\n", "\\n")) +
    (dropped > 0 ? ` … (${dropped} more characters)` : "");
}
