import {
  type CommandResult,
  type CommandSpec,
  displayArgv,
  type Runner,
  type StartSpec,
  type Watched,
  type WatchSpec,
} from "../../lib/core/exec.ts";

export interface ScriptedResult {
  /** Matches a command by its argv. An entry with nothing but `when` is a command that succeeds silently. */
  readonly when: (argv: readonly string[]) => boolean;
  readonly code?: number;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly timedOut?: boolean;
  readonly overflowed?: boolean;
  /** The command never ends (a peer that hangs): the result never comes. */
  readonly hang?: boolean;
}

/** A command the test did not script: the fake runner refuses it rather than pretend it succeeded. */
export class UnscriptedCommandError extends Error {
  constructor(readonly argv: readonly string[]) {
    super(`FakeRunner: no scripted result for ${JSON.stringify(argv)} (${displayArgv(argv)}); script it in the test`);
    this.name = "UnscriptedCommandError";
  }
}

/** Unscripted commands of the running test, across its runners, until the test ends. */
const unscriptedInTest: (readonly string[])[] = [];

/** Hands over (and forgets) the unscripted commands so far: for a test that makes one on purpose. */
export function takeUnscripted(): (readonly string[])[] {
  return unscriptedInTest.splice(0);
}

// The code under test may catch the error (a restart that fails is a warning); the test still fails.
Deno.test.afterEach(() => {
  const missed = takeUnscripted();
  if (missed.length > 0) {
    throw new Error(
      `the test ran commands it did not script:\n${missed.map((argv) => `  ${displayArgv(argv)}`).join("\n")}`,
    );
  }
});

/**
 * Records every command it is asked to run and replays the first scripted result whose `when` matches.
 * A command no entry matches throws an UnscriptedCommandError naming its argv, and is kept in `unscripted`
 * so a test can see it; where the code under test catches the error, the test fails when it ends.
 */
export class FakeRunner implements Runner {
  readonly calls: CommandSpec[] = [];
  readonly started: StartSpec[] = [];
  /** Watches started: a test feeds a watch lines through its spec's onLine, and ends it with `endWatch`. */
  readonly watched: WatchSpec[] = [];
  readonly #endings: (() => void)[] = [];
  /** Commands that matched no entry of the script. */
  readonly unscripted: (readonly string[])[] = [];
  readonly #script: readonly ScriptedResult[];
  readonly #onStart: (spec: StartSpec) => void;

  /** `onStart` plays what a started daemon does to the machine (an ssh master makes its socket). */
  constructor(script: readonly ScriptedResult[] = [], onStart: (spec: StartSpec) => void = () => {}) {
    this.#script = script;
    this.#onStart = onStart;
  }

  start(spec: StartSpec): number {
    this.started.push(spec);
    this.#onStart(spec);
    return 4242 + this.started.length;
  }

  /** A watch runs until the test ends it (endWatch) or the code under test stops it. */
  watch(spec: WatchSpec): Watched {
    this.watched.push(spec);
    let end = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.#endings.push(end);
    return { ended, stop: end };
  }

  /** Ends the index-th watch as if its process exited. */
  endWatch(index: number): void {
    this.#endings[index]?.();
  }

  run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    const scripted = this.#script.find((entry) => entry.when(spec.argv));
    if (scripted === undefined) {
      this.unscripted.push(spec.argv);
      unscriptedInTest.push(spec.argv);
      return Promise.reject(new UnscriptedCommandError(spec.argv));
    }
    if (scripted.hang) return new Promise(() => {});
    return Promise.resolve({
      argv: spec.argv,
      code: scripted.code ?? 0,
      stdout: scripted.stdout ?? "",
      stderr: scripted.stderr ?? "",
      timedOut: scripted.timedOut ?? false,
      ...(scripted.overflowed && { overflowed: true }),
    });
  }
}

/** Matches an argv that is exactly these words: `{ when: argvIs("udevadm", "settle") }` scripts a silent success. */
export function argvIs(...words: readonly string[]): (argv: readonly string[]) => boolean {
  return (argv) => argv.length === words.length && words.every((word, i) => argv[i] === word);
}
