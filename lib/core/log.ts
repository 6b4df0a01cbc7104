import { onActions } from "./actions.ts";
import type { Context } from "./context.ts";

/** A progress line on stderr, secrets masked. */
export function say(ctx: Context, line: string): void {
  ctx.err(ctx.redactor.redact(`dnb: ${line}`));
}

/** A line on stderr, secrets masked, that GitHub Actions also shows as an annotation of `kind`. */
export function annotate(ctx: Context, kind: "error" | "warning" | "notice", text: string): void {
  const masked = ctx.redactor.redact(text);
  ctx.err(masked);
  if (onActions(ctx)) ctx.err(`::${kind}::${masked.replaceAll("%", "%25")}`);
}

/** A problem that does not stop the run. */
export function warn(ctx: Context, line: string): void {
  annotate(ctx, "warning", `dnb: warning: ${line}`);
}

/** Something the user should know that is not a problem. */
export function notice(ctx: Context, line: string): void {
  annotate(ctx, "notice", `dnb: ${line}`);
}
