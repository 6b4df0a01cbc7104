/**
 * GitHub Actions integration: masks, log groups, step outputs and the step summary. Off Actions
 * (GITHUB_ACTIONS unset) groups become plain headings and nothing else is written.
 */
import { appendFileSync } from "node:fs";
import type { Context } from "./context.ts";

export function onActions(ctx: Context): boolean {
  return ctx.env.GITHUB_ACTIONS === "true";
}

/** Tells the runner to hide a value in every later log line; dnb's own redaction covers the rest. */
export function maskInLogs(ctx: Context, secret: string): void {
  if (onActions(ctx)) ctx.out(`::add-mask::${secret}\n`);
}

/** Runs one phase of a role inside a collapsible log group (a heading off Actions). */
export async function inGroup<T>(ctx: Context, title: string, work: () => Promise<T>): Promise<T> {
  ctx.err(onActions(ctx) ? `::group::${title}` : `== ${title}`);
  try {
    return await work();
  } finally {
    if (onActions(ctx)) ctx.err("::endgroup::");
  }
}

/** `name<<delimiter` blocks, so values may hold newlines (the machines file does). */
export function renderOutputs(outputs: Readonly<Record<string, string>>, delimiter: string): string {
  return Object.entries(outputs).map(([name, value]) => `${name}<<${delimiter}\n${value}\n${delimiter}\n`).join("");
}

/** Appends step outputs to $GITHUB_OUTPUT, secrets masked. */
export function writeOutputs(ctx: Context, outputs: Readonly<Record<string, string>>): void {
  const file = ctx.env.GITHUB_OUTPUT;
  if (!file) return;
  appendFileSync(file, ctx.redactor.redact(renderOutputs(outputs, `dnb_${crypto.randomUUID()}`)));
}

/** Appends markdown to the job's step summary, secrets masked. */
export function writeSummary(ctx: Context, markdown: string): void {
  const file = ctx.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  appendFileSync(file, ctx.redactor.redact(markdown.endsWith("\n") ? markdown : `${markdown}\n`));
}
