import type { Context } from "./context.ts";

/** A progress line on stderr, secrets masked. */
export function say(ctx: Context, line: string): void {
  ctx.err(ctx.redactor.redact(`dnb: ${line}`));
}

/** A problem that does not stop the run; an annotation too on GitHub Actions. */
export function warn(ctx: Context, line: string): void {
  const text = ctx.redactor.redact(`dnb: warning: ${line}`);
  ctx.err(text);
  if (ctx.env.GITHUB_ACTIONS === "true") ctx.err(`::warning::${text.replaceAll("%", "%25")}`);
}

/** Something the user should know that is not a problem; a notice annotation on GitHub Actions. */
export function notice(ctx: Context, line: string): void {
  const text = ctx.redactor.redact(`dnb: ${line}`);
  ctx.err(text);
  if (ctx.env.GITHUB_ACTIONS === "true") ctx.err(`::notice::${text.replaceAll("%", "%25")}`);
}
