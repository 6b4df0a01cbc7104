/**
 * GitHub Actions integration: annotations, masks, log groups, step outputs and the step summary. Off Actions
 * (GITHUB_ACTIONS unset) groups become plain headings and nothing else is written.
 *
 * Commands and outputs are formatted here, not by `@actions/core`: that library writes every command to
 * process.stdout and reads process.env and the output files itself, so it would bypass the context (tests
 * capture ctx.out and ctx.err; dnb keeps stdout for results such as `dnb status --json` and annotates on
 * stderr), and the escaping helpers it uses (escapeData, escapeProperty, prepareKeyValueMessage) are not
 * exported (its package exports only its entry point). The formatting
 * below follows its lib/command.js and lib/file-command.js, and tests/unit/actions_core_test.ts checks
 * that it matches `@actions/core` character for character over a corpus of hostile strings.
 */
import type { Context } from "./context.ts";
import { printable } from "./sanitize.ts";

export function onActions(ctx: Context): boolean {
  return ctx.env.GITHUB_ACTIONS === "true";
}

/** The workflow commands dnb issues. */
export type WorkflowCommand = "error" | "warning" | "notice" | "add-mask" | "group" | "endgroup";

/** A property or message as `@actions/core` turns it into text (toCommandValue). */
function commandValue(value: string | number | undefined): string {
  return value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
}

/** The runner reads `%0D` and `%0A` back as line ends inside the command, so a message stays one line. */
function escapeData(value: string | number | undefined): string {
  return commandValue(value).replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** A property also may not hold the `:` that ends the properties or the `,` that separates them. */
function escapeProperty(value: string | number | undefined): string {
  return escapeData(value).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/**
 * `::name key=value,…::message`, one line whatever the message holds, as `@actions/core` issueCommand
 * formats it (a property without a value is left out).
 */
export function workflowCommand(
  name: WorkflowCommand,
  properties: Readonly<Record<string, string | number | undefined>>,
  message: string,
): string {
  const pairs = Object.entries(properties).filter(([, value]) => value).map(([key, value]) =>
    `${key}=${escapeProperty(value)}`
  );
  return `::${name}${pairs.length > 0 ? ` ${pairs.join(",")}` : ""}::${escapeData(message)}`;
}

/** Tells the runner to hide a value in every later log line; dnb's own redaction covers the rest. */
export function maskInLogs(ctx: Context, secret: string): void {
  if (onActions(ctx)) ctx.out(`${workflowCommand("add-mask", {}, secret)}\n`);
}

/** Runs one phase of a role inside a collapsible log group (a heading off Actions). */
export async function inGroup<T>(ctx: Context, title: string, work: () => Promise<T>): Promise<T> {
  const shown = printable(ctx.redactor.redact(title));
  ctx.err(onActions(ctx) ? workflowCommand("group", {}, shown) : `== ${shown}`);
  try {
    return await work();
  } finally {
    if (onActions(ctx)) ctx.err(workflowCommand("endgroup", {}, ""));
  }
}

/** Output names dnb sets: a name cannot hold a line end or the `<<` that starts a block. */
const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `name<<delimiter` blocks, so values may hold newlines (the machines file does). A name or value that holds
 * the delimiter could end its block early and set outputs of its own: refused, as `@actions/core` does.
 */
export function renderOutputs(outputs: Readonly<Record<string, string>>, delimiter: string): string {
  return Object.entries(outputs).map(([name, value]) => {
    if (!OUTPUT_NAME.test(name) || name.includes(delimiter)) throw new Error(`invalid step output name ${name}`);
    if (value.includes(delimiter)) throw new Error(`step output ${name} holds the output delimiter`);
    return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }).join("");
}

/** Appends step outputs to $GITHUB_OUTPUT, secrets masked. */
export function writeOutputs(ctx: Context, outputs: Readonly<Record<string, string>>): void {
  const file = ctx.env.GITHUB_OUTPUT;
  if (!file) return;
  const masked = Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, ctx.redactor.redact(value)]));
  ctx.files.append(file, renderOutputs(masked, `dnb_${crypto.randomUUID()}`));
}

/** Appends markdown to the job's step summary, secrets masked; report/markdown.ts escapes what others wrote. */
export function writeSummary(ctx: Context, markdown: string): void {
  const file = ctx.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  ctx.files.append(file, ctx.redactor.redact(markdown.endsWith("\n") ? markdown : `${markdown}\n`));
}
