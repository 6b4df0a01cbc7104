import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { runRole } from "./commands/role.ts";
import { runDoctor } from "./commands/doctor.ts";
import { runPost } from "./commands/post.ts";
import { runStatus } from "./commands/status.ts";
import { runStop } from "./commands/stop.ts";
import { runWatchdog } from "./farm/watchdog.ts";
import { printable } from "./core/sanitize.ts";
import { loadDoctorOptions, loadStateDir } from "./config/config.ts";
import type { Context } from "./core/context.ts";
import { DnbError, EXIT_FAILURE, EXIT_USAGE, InputError } from "./core/errors.ts";
import { attributeName, AUTH_KEY_ENV, ROLE_OPTIONS, type RoleFlag, STATE_DIR_OPTION } from "./config/options.ts";
import { VERSION } from "./core/version.ts";
import { checkStateDir } from "./core/state_dir.ts";

import { STOP_ALIAS } from "./config/names.ts";
import { annotate } from "./core/log.ts";

/** Flags that would put the auth key on the command line, where every user can read it in the process list. */
const SECRET_FLAGS = /^--?(auth-?key|tailscale[-_]auth-?key|ts[-_]auth-?key|client-secret)(=|$)/i;

function refuseSecretsOnCommandLine(argv: readonly string[]): void {
  argv.forEach((arg, index) => {
    const secretFlag = SECRET_FLAGS.exec(arg);
    if (secretFlag) {
      throw new InputError(
        `--${secretFlag[1]}`,
        `refused: a key on the command line is visible to every user of this machine; set ${
          AUTH_KEY_ENV.join(" or ")
        }, or use --authkey-file <path>`,
      );
    }
    if (arg.includes("tskey-")) {
      const previous = argv[index - 1];
      const name = previous?.startsWith("-") ? previous : `argument ${index + 1}`;
      throw new InputError(
        name,
        `refused: it holds a Tailscale key (tskey-…) and the command line is visible to every user; use ${
          AUTH_KEY_ENV.join(" or ")
        } or --authkey-file`,
      );
    }
  });
}

function refuseOperands(operands: readonly string[]): void {
  const [first] = operands;
  if (first !== undefined) {
    throw new InputError(JSON.stringify(first), "unexpected argument: options start with -- (see dnb --help)");
  }
}

type Selected =
  | { readonly command: "role"; readonly flags: Partial<Record<RoleFlag, string | boolean>> }
  | { readonly command: "stop" | "post" | "watchdog"; readonly stateDirFlag?: string }
  | { readonly command: "status"; readonly stateDirFlag?: string; readonly json: boolean }
  | {
    readonly command: "doctor";
    readonly stateDirFlag?: string;
    readonly sshUserFlag?: string;
    readonly json: boolean;
  };

function helpFooter(): string {
  return "\nEvery option also reads DNB_<OPTION> (e.g. --builder-timeout: DNB_BUILDER_TIMEOUT).\n" +
    `The auth key comes only from ${AUTH_KEY_ENV.join(" or ")}, or --authkey-file.\n` +
    "Exit codes: 0 success, 1 operational failure, 2 invalid input.\n";
}

/** stop, post, watchdog, status and doctor, each with its own few options. */
function addCommands(program: Command, select: (selected: Selected) => void): void {
  // A literal, so extra-typings can type `options.stateDir`.
  const stateDirFlag = "--state-dir <path>" as const satisfies `${typeof STATE_DIR_OPTION.flag} ${string}`;
  for (
    const [name, description] of [
      ["stop", `signal every claimed builder done, stop the watchdog, restore files (alias: ${STOP_ALIAS})`],
      ["post", "what the action's post step runs: stop if not yet done, then log out"],
      ["watchdog", "internal: what the coordinator leaves running to renew leases"],
    ] as const
  ) {
    program.command(name).description(description).option(stateDirFlag, STATE_DIR_OPTION.description)
      .allowExcessArguments(true)
      .action((options, command) => {
        refuseOperands(command.args);
        select({ command: name, stateDirFlag: options.stateDir });
      });
  }
  program.command("status").description("show what the coordinator knows about its builders")
    .option(stateDirFlag, STATE_DIR_OPTION.description)
    .option("--json", "print JSON")
    .allowExcessArguments(true)
    .action((options, command) => {
      refuseOperands(command.args);
      select({ command: "status", stateDirFlag: options.stateDir, json: options.json ?? false });
    });
  program.command("doctor").description("check this machine for dnb (root, Nix, trusted users, kvm, disk, Tailscale)")
    .option(stateDirFlag, STATE_DIR_OPTION.description)
    .option("--ssh-user <user>", "also check that this user is in Nix's trusted-users")
    .option("--json", "print JSON")
    .allowExcessArguments(true)
    .action((options, command) => {
      refuseOperands(command.args);
      select({
        command: "doctor",
        stateDirFlag: options.stateDir,
        sshUserFlag: options.sshUser,
        json: options.json ?? false,
      });
    });
}

function buildProgram(ctx: Context, select: (selected: Selected) => void): Command {
  const program = new Command("dnb")
    .description("Distributed Nix builds: turn CI runners into an ephemeral Nix build farm over Tailscale.")
    .version(VERSION, "--version", "print the version")
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", helpFooter())
    // Root options only before a command: `stop --state-dir x` is stop's own option.
    .enablePositionalOptions()
    // Stray words are reported by name below, which commander's message does not do.
    .allowExcessArguments(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.out(text),
      writeErr: (text) => ctx.out(text),
      // Errors become one `dnb: …` line in runCli.
      outputError: () => {},
    });
  for (const option of ROLE_OPTIONS) {
    program.addOption(
      new Option("value" in option ? `${option.flag} ${option.value}` : option.flag, option.description),
    );
  }
  program.action(() => {
    refuseOperands(program.args);
    const values = program.opts() as Record<string, string | boolean | undefined>;
    const flags: Partial<Record<RoleFlag, string | boolean>> = {};
    for (const option of ROLE_OPTIONS) {
      const value = values[attributeName(option.flag)];
      if (value !== undefined) flags[option.flag] = value;
    }
    select({ command: "role", flags });
  });

  addCommands(program, select);
  for (const sub of program.commands) {
    sub.exitOverride().configureOutput({ writeOut: (text) => ctx.out(text), outputError: () => {} });
  }
  return program;
}

async function dispatch(selected: Selected, ctx: Context): Promise<number> {
  if (selected.command === "role") return await runRole(selected.flags, ctx);
  if (selected.command === "doctor") {
    const flags = {
      ...(selected.stateDirFlag === undefined ? {} : { "--state-dir": selected.stateDirFlag }),
      ...(selected.sshUserFlag === undefined ? {} : { "--ssh-user": selected.sshUserFlag }),
    };
    return await runDoctor({ ...loadDoctorOptions({ flags, env: ctx.env }), json: selected.json }, ctx);
  }
  const stateDir = loadStateDir({
    flags: selected.stateDirFlag === undefined ? {} : { "--state-dir": selected.stateDirFlag },
    env: ctx.env,
  });
  if (selected.command === "status") return runStatus(stateDir, selected.json, ctx);
  if (selected.command === "watchdog") {
    // The watchdog trusts its folder as stop does; it runs only in one the coordinator made.
    if (!checkStateDir(ctx, stateDir)) throw new DnbError(`state folder ${stateDir} does not exist`);
    return await runWatchdog(stateDir, ctx);
  }
  return selected.command === "stop" ? await runStop(stateDir, ctx) : await runPost(stateDir, ctx);
}

/** One line for a failure, plus an annotation when running in GitHub Actions. */
function report(error: DnbError, ctx: Context): void {
  annotate(ctx, "error", `dnb: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
}

/**
 * Parses argv and runs the chosen command; returns the exit code. `invokedAs` is the program's
 * own name, so a `stop-nix-builders` link behaves as `dnb stop`.
 */
export async function runCli(argv: readonly string[], invokedAs: string, ctx: Context): Promise<number> {
  const args = invokedAs === STOP_ALIAS ? ["stop", ...argv] : [...argv];
  try {
    refuseSecretsOnCommandLine(args);
    let selected: Selected | undefined;
    await buildProgram(ctx, (choice) => selected = choice).parseAsync(args, { from: "user" });
    // --help and --version end inside parseAsync with a CommanderError; anything else selected a command.
    return selected === undefined ? EXIT_USAGE : await dispatch(selected, ctx);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      const message = error.message.replace(/^error: /, "").replaceAll("\n", " ");
      report(new DnbError(`${message} (see dnb --help)`, { exitCode: EXIT_USAGE }), ctx);
      return EXIT_USAGE;
    }
    if (error instanceof DnbError) {
      report(error, ctx);
      return error.exitCode;
    }
    report(new DnbError(`internal error: ${(error as Error).message ?? String(error)}`), ctx);
    if (ctx.env.DNB_DEBUG) ctx.err(printable(ctx.redactor.redact((error as Error).stack ?? ""), { multiline: true }));
    return EXIT_FAILURE;
  }
}
