/**
 * The session file (`tailscale.json` in the state folder): how this run reaches the tailnet, saved
 * so teardown knows what (not) to undo, and checked when read back: teardown runs its `bin` and
 * signals its daemon as root.
 */
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import type { Files } from "../core/files.ts";
import { statePath } from "../core/state_dir.ts";
import { dnbWouldRunTailscale } from "./locate.ts";

/** How this run reaches the tailnet, saved so teardown knows what (not) to undo. */
export interface TailnetSession {
  readonly bin: string;
  /** Absent when the system's tailscaled is reused. */
  readonly socket?: string;
  /** dnb logged this node in, so dnb logs it out; a reused node is never touched. */
  readonly ours: boolean;
  readonly daemonPid?: number;
}

/** The session dnb saved, in the shape dnb writes (its socket is the state folder's); else an error. */
export function readSession(files: Files, stateDir: string): TailnetSession | undefined {
  const file = statePath(stateDir, "tailscaleSession");
  const text = files.readText(file);
  if (text === undefined) return undefined;
  const session = JSON.parse(text) as Partial<TailnetSession> | null;
  const pid = session?.daemonPid;
  if (
    typeof session?.bin !== "string" || typeof session.ours !== "boolean" ||
    (session.socket !== undefined && session.socket !== statePath(stateDir, "tailscaledSocket")) ||
    (pid !== undefined && !(Number.isInteger(pid) && pid > 0))
  ) {
    throw new DnbError(`${file} is not a session dnb wrote`);
  }
  return session as TailnetSession;
}

/**
 * readSession, and its tailscale must be one dnb would run (see dnbWouldRunTailscale; `given` is
 * this run's --tailscale-bin).
 */
export function dnbSession(
  ctx: Pick<Context, "files" | "env">,
  stateDir: string,
  given?: string,
): TailnetSession | undefined {
  const session = readSession(ctx.files, stateDir);
  if (session !== undefined && session.bin !== given && !dnbWouldRunTailscale(ctx, stateDir, session.bin)) {
    throw new DnbError(
      `${statePath(stateDir, "tailscaleSession")} names ${
        JSON.stringify(session.bin.slice(0, 200))
      }, which is not a tailscale dnb would run (the one on PATH, dnb's own install, or DNB_TAILSCALE_BIN)`,
    );
  }
  return session;
}
