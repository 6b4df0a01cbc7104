/**
 * What flow tests (join, builder, coordinator, watchdog) share: a context whose clock only moves
 * when the code sleeps, scripted commands, and programs "installed" in the test's own root.
 */
import { type Config, loadConfig } from "../../lib/config/config.ts";
import type { Context } from "../../lib/core/context.ts";
import { FakeRunner, type ScriptedResult } from "./fake_runner.ts";
import type { StartSpec } from "../../lib/core/exec.ts";
import { type TestContext, testContext } from "./context.ts";

export const START = Date.parse("2026-11-26T08:00:00Z");

/** `ssh -O check` and `-O exit` answer as a master would. */
export const SSH_MASTER_CONTROL: ScriptedResult = { when: (argv) => argv[0] === "ssh" && argv.includes("-O") };

/** An ssh master comes up at once: its socket appears where its ControlPath says. */
function sshMasterUp(ctx: Context, spec: StartSpec): void {
  const path = spec.argv.find((arg) => arg.startsWith("ControlPath="))?.slice("ControlPath=".length);
  if (spec.argv[0] === "ssh" && path !== undefined) ctx.files.writeAtomic(path, "");
}

export interface FlowContext extends TestContext {
  /** Every sleep the code asked for, in ms. */
  readonly sleeps: number[];
  /** Runs `event` the first time the clock reaches `at` ms after START. */
  at(ms: number, event: () => void): void;
  /** Delivers SIGTERM to the code's signal handler once the clock reaches `ms` after START. */
  signalAt(ms: number): void;
}

export function flowContext(
  options: { script?: readonly ScriptedResult[]; env?: Record<string, string>; files?: Record<string, string> } = {},
): FlowContext {
  let now = START;
  const sleeps: number[] = [];
  const events: { at: number; event: () => void }[] = [];
  const handlers: ((signal: "SIGINT" | "SIGTERM") => void)[] = [];
  const fire = () => {
    for (const due of events.filter((entry) => entry.at <= now)) {
      events.splice(events.indexOf(due), 1);
      due.event();
    }
  };
  const base = testContext({ env: { PATH: "/usr/bin", ...options.env }, files: options.files });
  const ctx: FlowContext = {
    ...base,
    runner: new FakeRunner([...options.script ?? [], SSH_MASTER_CONTROL], (spec) => sshMasterUp(base, spec)),
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      fire();
      return Promise.resolve();
    },
    onSignal: (handler) => {
      handlers.push(handler);
      return () => handlers.splice(handlers.indexOf(handler), 1);
    },
    sleeps,
    at: (ms, event) => events.push({ at: START + ms, event }),
    signalAt: (ms) => events.push({ at: START + ms, event: () => handlers.forEach((handler) => handler("SIGTERM")) }),
  };
  return ctx;
}

/** Puts an executable at `path` in the context's root, as if installed. */
export function install(ctx: Context, ...paths: string[]): void {
  for (const path of paths) ctx.files.writeAtomic(path, "#!/bin/sh\n", 0o755);
}

/** A validated config, as `dnb --role …` would load it from these flags and environment. */
export function flowConfig(flags: Record<string, string>, env: Record<string, string> = {}): Config {
  return loadConfig({
    flags: flags as Parameters<typeof loadConfig>[0]["flags"],
    env,
    readTextFile: () => "",
    randomSuffix: () => "a1b2c3",
    platform: { os: "linux", arch: "x86_64" },
  });
}

/** A scripted answer for every command whose argv holds all of `words`. */
export function when(words: readonly string[], result: Omit<ScriptedResult, "when"> = {}): ScriptedResult {
  return { when: (argv) => words.every((word) => argv.includes(word)), ...result };
}
