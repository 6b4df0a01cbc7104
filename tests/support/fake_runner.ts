import type { CommandResult, CommandSpec, Runner, StartSpec } from "../../lib/core/exec.ts";

export interface ScriptedResult {
  /** Matches a command by its argv. */
  readonly when: (argv: readonly string[]) => boolean;
  readonly code?: number;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly timedOut?: boolean;
}

/** Records every command it is asked to run and replays scripted results; unmatched commands succeed silently. */
export class FakeRunner implements Runner {
  readonly calls: CommandSpec[] = [];
  readonly started: StartSpec[] = [];
  readonly #script: readonly ScriptedResult[];

  constructor(script: readonly ScriptedResult[] = []) {
    this.#script = script;
  }

  start(spec: StartSpec): number {
    this.started.push(spec);
    return 4242 + this.started.length;
  }

  run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    const scripted = this.#script.find((entry) => entry.when(spec.argv));
    return Promise.resolve({
      argv: spec.argv,
      code: scripted?.code ?? 0,
      stdout: scripted?.stdout ?? "",
      stderr: scripted?.stderr ?? "",
      timedOut: scripted?.timedOut ?? false,
    });
  }
}
