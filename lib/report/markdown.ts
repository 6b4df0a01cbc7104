/**
 * Text from builders (names, systems, features, build folders) inside the step summary: a table cell or
 * a label of the mermaid diagram. GitHub renders the summary as Markdown with HTML, so a builder named
 * `![x](https://…)`, `<img src=…>` or `a | b` would add an image or a link, or break the table. Each
 * function below is the one way such text enters its kind of place.
 */
import { printable } from "../core/sanitize.ts";

const HTML: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/**
 * Markdown's inline markers, backslash-escaped: code spans, emphasis, strikethrough, links and images (`[`,
 * `]`; `![` and `](` then mean nothing), math (`$`), the table's `|`, and the backslash itself. `_` between
 * two letters or digits can neither open nor close emphasis, so `x86_64-linux` stays as it is.
 */
function escapeMarkdown(text: string): string {
  return text.replace(
    /[\\`*~[\]$|_]/g,
    (character, at: number) =>
      character === "_" && inWord(text[at - 1]) && inWord(text[at + 1]) ? character : `\\${character}`,
  );
}

function inWord(character: string | undefined): boolean {
  return character !== undefined && /[\p{L}\p{N}]/u.test(character);
}

/** One line of plain text for a Markdown table cell or list item: no line break, no markup, no HTML. */
export function markdownText(text: string): string {
  return escapeMarkdown(printable(text)).replace(/[&<>"]/g, (character) => HTML[character]!);
}

/** A list item of plain text, which cannot open a block of its own (a heading, a nested list) either. */
export function markdownItem(text: string): string {
  return `- ${markdownText(text.trimStart()).replace(/^(\d*)([#+\-=.)])/, "$1\\$2")}`;
}

/** A table row of plain-text cells. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.map(markdownText).join(" | ")} |`;
}

/** Mermaid's entity codes (`#quot;`), put in one pass: a builder's own `#lt;` becomes `#35;lt;`, shown as typed. */
const MERMAID: Readonly<Record<string, string>> = {
  "#": "#35;",
  '"': "#quot;",
  "<": "#lt;",
  ">": "#gt;",
  "&": "#amp;",
  "`": "#96;",
};

/** Text inside a quoted mermaid label (`n_b1["…"]`): it cannot close the quotes, add HTML or end the code block. */
export function mermaidText(text: string): string {
  return printable(text).replace(/[#"<>&`]/g, (character) => MERMAID[character]!);
}
