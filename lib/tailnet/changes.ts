/**
 * Wakes the coordinator as the tailnet changes instead of on a timer. `tailscale debug watch-ipn`
 * prints each event of tailscaled's IPN bus (a peer came online or left, a new netmap) as an indented
 * JSON object closed by `}` alone on its line, or `{}` when nothing is left to show. Only that line is
 * read: the event is the wake-up, and `status --json` then says what changed, through the parser that
 * holds peers to their grammar. Without the stream (a tailscale without the command, a daemon that
 * refuses it) every wait is the caller's poll interval, as before.
 */
import type { Context } from "../core/context.ts";
import type { Watched } from "../core/exec.ts";

/** An event's closing line; every other line is skipped unread. */
const EVENT_END = /^\{?\}$/;
/** Netmap lines are not read, but one line of a huge netmap must not grow without bound. */
const MAX_LINE_BYTES = 64 * 1024;

export function watchIpnArgv(bin: string, socket?: string): string[] {
  return [
    bin,
    ...(socket === undefined ? [] : [`--socket=${socket}`]),
    "debug",
    "watch-ipn",
    // The netmap is not read; without the rate limit a change arrives at once, not up to 3 s later.
    "--netmap=false",
    "--rate-limit=false",
  ];
}

export class TailnetChanges {
  readonly #watched: Watched;
  /** Events so far, and how many of them the last wait already answered. */
  #events = 0;
  #answered = 0;
  #live = true;
  readonly #waiters = new Set<() => void>();

  private constructor(ctx: Pick<Context, "runner">, bin: string, socket: string | undefined) {
    this.#watched = ctx.runner.watch({
      argv: watchIpnArgv(bin, socket),
      maxLineBytes: MAX_LINE_BYTES,
      onLine: (line) => {
        if (EVENT_END.test(line)) this.#signal();
      },
    });
    this.#watched.ended.then(() => {
      this.#live = false;
      this.#signal();
    });
  }

  static start(ctx: Pick<Context, "runner">, bin: string, socket?: string): TailnetChanges {
    return new TailnetChanges(ctx, bin, socket);
  }

  /** Whether events still come; once the stream ended, waits are timed only. */
  get live(): boolean {
    return this.#live;
  }

  #signal(): void {
    this.#events++;
    for (const wake of this.#waiters) wake();
  }

  /**
   * Resolves at the first change since the last wait returned (at once if one came meanwhile), when
   * one of `others` settles, or after `ms`.
   */
  async next(ctx: Pick<Context, "sleep">, ms: number, ...others: Promise<unknown>[]): Promise<void> {
    if (this.#events === this.#answered) {
      let wake = () => {};
      const changed = new Promise<void>((resolve) => (wake = resolve));
      if (this.#live) this.#waiters.add(wake);
      try {
        await Promise.race([ctx.sleep(ms), changed, ...others]);
      } finally {
        this.#waiters.delete(wake);
      }
    }
    this.#answered = this.#events;
  }

  stop(): void {
    this.#watched.stop();
  }
}
