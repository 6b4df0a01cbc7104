/**
 * Every line dnb prints goes through here: secrets masked, then made printable (core/sanitize.ts), so text
 * from a builder, a peer or the tailnet cannot end a line, issue a workflow command or move the cursor.
 */
import { onActions, workflowCommand } from "./actions.ts";
import type { Context } from "./context.ts";
import { MESSAGE_MAX, printable } from "./sanitize.ts";

/** A progress line on stderr, secrets masked. */
export function say(ctx: Context, line: string): void {
  ctx.err(printable(ctx.redactor.redact(`dnb: ${line}`)));
}

/**
 * Lines on stderr, secrets masked, that GitHub Actions also shows as an annotation of `kind`. The text may
 * hold several lines (an error and the stderr it quotes); the annotation keeps them, escaped in one command.
 */
export function annotate(ctx: Context, kind: "error" | "warning" | "notice", text: string): void {
  const shown = printable(ctx.redactor.redact(text), { multiline: true, max: MESSAGE_MAX });
  ctx.err(shown);
  if (onActions(ctx)) ctx.err(workflowCommand(kind, {}, shown));
}

/** A problem that does not stop the run. */
export function warn(ctx: Context, line: string): void {
  annotate(ctx, "warning", `dnb: warning: ${line}`);
}

/** Something the user should know that is not a problem. */
export function notice(ctx: Context, line: string): void {
  annotate(ctx, "notice", `dnb: ${line}`);
}
