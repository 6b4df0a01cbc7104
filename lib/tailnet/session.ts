import type { Config } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { say, warn } from "../core/log.ts";
import { MAX_STATUS_BYTES, parseStatus, type TailnetStatus } from "./status.ts";
import { classifyJoinFailure } from "./join_errors.ts";
import {
  authKeyForUp,
  systemTailscaledSocket,
  tailscaledArgv,
  tailscaledPaths,
  tailscaleLogoutArgv,
  tailscaleStatusArgv,
  tailscaleUpArgv,
  type UpCredential,
  upCredential,
} from "./args.ts";
import { fetchIdToken, idTokenServiceAvailable } from "./oidc.ts";
import { requireKeylessSupport } from "./version.ts";
import { maskInLogs } from "../core/actions.ts";
import { type CommandResult, failureLine, succeeded } from "../core/exec.ts";
import { statePath } from "../core/state_dir.ts";
import { locateTailscale, type TailscalePrograms } from "./locate.ts";
import { dnbSession, readSession, type TailnetSession } from "./session_file.ts";
import { isOwnProcess } from "../core/own_process.ts";

export { dnbSession, readSession, type TailnetSession };

/** Nix's profile folders, so Tailscale SSH sessions on macOS find nix-daemon and friends. */
const MACOS_SSH_PATH =
  "/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

/** `tailscale status --json`, or undefined when no daemon answers. */
export async function tailnetStatus(ctx: Context, bin: string, socket?: string): Promise<TailnetStatus | undefined> {
  const result = await ctx.runner.run({
    argv: tailscaleStatusArgv(bin, socket),
    timeoutMs: 15_000,
    maxOutputBytes: MAX_STATUS_BYTES,
  });
  if (!succeeded(result)) return undefined;
  return parseStatus(result.stdout);
}

async function waitForSocket(ctx: Context, socket: string, deadline: number): Promise<void> {
  while (!ctx.files.exists(socket)) {
    if (ctx.now() > deadline) {
      throw new DnbError(`tailscaled did not open ${socket}`, { hint: "see tailscaled.log in the state folder" });
    }
    await ctx.sleep(100);
  }
}

/** Joining needs a key or a federated identity with an OIDC token; fork pull requests get neither. */
export class NoCredentialsError extends DnbError {
  constructor(why: string) {
    super(`no Tailscale credentials: ${why}`, {
      hint: "set TS_AUTHKEY (an auth key or OAuth client secret) or --oauth-client-id with --audience",
    });
    this.name = "NoCredentialsError";
  }
}

function requireCredentials(config: Config, ctx: Context): void {
  if (config.authKey === undefined && config.federated === undefined) {
    throw new NoCredentialsError("no auth key (TS_AUTHKEY is empty, as in pull requests from forks)");
  }
  if (config.authKey === undefined && !idTokenServiceAvailable(ctx.env)) {
    throw new NoCredentialsError(
      "--oauth-client-id needs this job's OIDC token, and the job may not request one " +
        "(pull requests from forks get none; otherwise add `permissions: id-token: write`)",
    );
  }
}

/** Writes the secret `tailscale up` reads into a 0600 file of the state folder; the caller deletes it. */
async function writeCredential(config: Config, ctx: Context): Promise<{ credential: UpCredential; file: string }> {
  const up = upCredential(config);
  if (up.credential.kind === "key-file") {
    ctx.files.writeAtomic(up.file, authKeyForUp(config.authKey!), 0o600);
    return up;
  }
  const token = await fetchIdToken(ctx, config.federated!.audience);
  ctx.redactor.add(token);
  maskInLogs(ctx, token);
  ctx.files.writeAtomic(up.file, token, 0o600);
  return up;
}

/**
 * Stops the join on SIGINT or SIGTERM: the secret `up` reads is deleted at once (a cancelled job may
 * be killed before `up` returns) and no attempt follows.
 */
function watchForSignals(ctx: Context, stateDir: string): { stoppedBy: () => string | undefined; stop: () => void } {
  let received: string | undefined;
  const stop = ctx.onSignal((signal) => {
    received = signal;
    for (const secret of ["authKey", "idToken"] as const) ctx.files.remove(statePath(stateDir, secret));
  });
  return { stoppedBy: () => received, stop };
}

async function logInWithRetries(
  config: Config,
  ctx: Context,
  bin: string,
  socket: string,
  ssh: boolean,
  deadline: number,
) {
  const signals = watchForSignals(ctx, config.stateDir);
  const checkpoint = () => {
    const signal = signals.stoppedBy();
    if (signal !== undefined) throw new DnbError(`joining the tailnet stopped by ${signal}`);
  };
  try {
    for (let attempt = 1;; attempt++) {
      checkpoint();
      const result = await upOnce(config, ctx, { bin, socket, ssh, deadline });
      if (succeeded(result)) return;
      checkpoint();
      const failure = classifyJoinFailure(result.stderr);
      const backoff = Math.min(10_000, 1000 * 2 ** (attempt - 1));
      if (!failure.transient || ctx.now() + backoff > deadline) {
        throw new DnbError(failure.message, { hint: failure.hint });
      }
      warn(ctx, `${failure.message}; trying again in ${backoff / 1000}s`);
      await ctx.sleep(backoff);
    }
  } finally {
    signals.stop();
  }
}

/** One `tailscale up`, its secret in a 0600 file that is deleted when it returns. */
async function upOnce(
  config: Config,
  ctx: Context,
  node: { bin: string; socket: string; ssh: boolean; deadline: number },
): Promise<CommandResult> {
  const remainingSeconds = Math.max(1, Math.floor((node.deadline - ctx.now()) / 1000));
  const { credential, file } = await writeCredential(config, ctx);
  try {
    return await ctx.runner.run({
      argv: tailscaleUpArgv({ ...config, ...node, credential, timeoutSeconds: remainingSeconds }),
      timeoutMs: remainingSeconds * 1000 + 5000,
    });
  } finally {
    ctx.files.remove(file);
  }
}

/**
 * Joins the tailnet per --tailscale: reuse a running, logged-in daemon (auto, existing) or start
 * an ephemeral one under the state folder and log in with the key from a 0600 file that is
 * deleted as soon as `up` returns.
 */
export async function joinTailnet(config: Config, ctx: Context, ssh: boolean): Promise<TailnetSession> {
  const deadline = ctx.now() + config.joinTimeoutSeconds * 1000;
  // Tailscale is located (or installed) only when it is used: a run without credentials stops first.
  let programs: TailscalePrograms | undefined;
  // Only ask a system daemon that has a socket: every status call is a process to start.
  if (
    config.tailscale === "existing" ||
    (config.tailscale === "auto" && ctx.files.exists(systemTailscaledSocket(ctx.platform.os)))
  ) {
    programs = await locateTailscale(config, ctx);
    const running = await tailnetStatus(ctx, programs.tailscale);
    if (running?.backendState === "Running" && running.self) {
      say(
        ctx,
        `reusing the running tailscaled (${running.self.hostName}, ${running.self.ipv4}); dnb will not log it out`,
      );
      const session: TailnetSession = { bin: programs.tailscale, ours: false };
      ctx.files.writeAtomic(statePath(config.stateDir, "tailscaleSession"), JSON.stringify(session) + "\n");
      return session;
    }
    if (config.tailscale === "existing") {
      throw new DnbError("--tailscale existing: no logged-in tailscaled answers", { hint: "run tailscale up first" });
    }
  }
  // A re-run finds the node its earlier run left up (a coordinator's node outlives it): keep it.
  let previous: TailnetSession | undefined;
  try {
    previous = dnbSession(ctx, config.stateDir, config.tailscaleBin);
  } catch (error) {
    warn(ctx, `${(error as Error).message}; a new node is started`);
  }
  if (previous?.ours && previous.socket !== undefined) {
    const running = await tailnetStatus(ctx, previous.bin, previous.socket);
    if (running?.backendState === "Running" && running.self) {
      say(ctx, `still on the tailnet from an earlier run as ${running.self.dnsName} (${running.self.ipv4})`);
      return previous;
    }
  }
  requireCredentials(config, ctx);
  programs ??= await locateTailscale(config, ctx);
  if (config.authKey === undefined) await requireKeylessSupport(ctx, programs.tailscale);
  const paths = tailscaledPaths(config.stateDir);
  const daemonPid = ctx.runner.start({
    argv: tailscaledArgv(programs.tailscaled, config.stateDir),
    logFile: statePath(config.stateDir, "tailscaledLog"),
    // The runner hands children an allow-listed environment; macOS's SSH sessions need Nix's profile on PATH.
    env: ctx.platform.os === "darwin" ? { TAILSCALE_SSH_DEFAULT_PATH: MACOS_SSH_PATH } : undefined,
  });
  const session: TailnetSession = { bin: programs.tailscale, socket: paths.socket, ours: true, daemonPid };
  ctx.files.writeAtomic(statePath(config.stateDir, "tailscaleSession"), JSON.stringify(session) + "\n");
  await waitForSocket(ctx, paths.socket, Math.min(deadline, ctx.now() + 30_000));
  await logInWithRetries(config, ctx, programs.tailscale, paths.socket, ssh, deadline);
  say(ctx, `joined the tailnet as ${config.hostname}`);
  return session;
}

/** Logs out a node dnb logged in (an ephemeral node is then deleted at once) and stops its daemon; warns, never throws. */
export async function leaveTailnet(session: TailnetSession, ctx: Context, stateDir: string): Promise<void> {
  if (!session.ours) return;
  // Forget the session first: a later `dnb post` must not log out a node that is already gone.
  ctx.files.remove(statePath(stateDir, "tailscaleSession"));
  const result = await ctx.runner.run({ argv: tailscaleLogoutArgv(session.bin, session.socket), timeoutMs: 15_000 });
  if (!succeeded(result)) {
    warn(ctx, `tailscale logout failed (${failureLine(result)}); the ephemeral node expires on its own`);
  }
  // Only the tailscaled dnb started on this socket: the pid may have been reused since.
  const socket = session.socket;
  if (
    session.daemonPid !== undefined && socket !== undefined &&
    await isOwnProcess(ctx, session.daemonPid, (line) => `${line} `.includes(` --socket=${socket} `))
  ) {
    ctx.processes.signal(session.daemonPid, "SIGTERM");
  }
}
