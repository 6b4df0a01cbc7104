import type { Context } from "../../lib/core/context.ts";
import type { MachineFacts } from "../../lib/core/facts.ts";
import { Files } from "../../lib/core/files.ts";
import { Redactor } from "../../lib/core/redact.ts";
import { FakeRunner } from "./fake_runner.ts";

/** A fresh Debian-like machine with no Nix and no Tailscale. */
export const BARE_MACHINE: MachineFacts = {
  os: "linux",
  arch: "x86_64",
  programs: {
    nix: undefined,
    tailscale: undefined,
    tailscaled: undefined,
    ssh: "/usr/bin/ssh",
    "ssh-keyscan": "/usr/bin/ssh-keyscan",
    systemctl: "/usr/bin/systemctl",
    launchctl: undefined,
  },
  nixConf: undefined,
  nixCustomConf: undefined,
  machinesFileExists: false,
  sshConfig: "Include /etc/ssh/ssh_config.d/*.conf\n\nHost *\n    SendEnv LANG LC_*\n",
  nixDaemonSocket: false,
  determinateLaunchd: false,
  systemTailscaled: false,
};

export interface TestContext extends Context {
  readonly runner: FakeRunner;
  readonly stdout: string[];
  readonly stderr: string[];
}

const roots: string[] = [];
globalThis.addEventListener("unload", () => roots.forEach((root) => Deno.removeSync(root, { recursive: true })));

/** A fresh folder that stands for the machine's `/` in one test; removed when the test process ends. */
export function sandboxRoot(): string {
  const root = Deno.makeTempDirSync({ prefix: "dnb-test-root-" });
  roots.push(root);
  return root;
}

/**
 * A context whose effects are fakes: scripted commands, captured output, and the real file code
 * working under `root` (a fresh sandbox unless given), where `files` are written first.
 */
export function testContext(
  options: {
    env?: Record<string, string>;
    files?: Record<string, string>;
    facts?: Partial<MachineFacts>;
    fetch?: Context["fetch"];
    root?: string;
  } = {},
): TestContext {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const files = new Files(options.root ?? sandboxRoot());
  for (const [path, content] of Object.entries(options.files ?? {})) files.writeAtomic(path, content);
  return {
    runner: new FakeRunner(),
    redactor: new Redactor(),
    env: options.env ?? {},
    out: (text) => stdout.push(text),
    err: (line) => stderr.push(line),
    files,
    processes: { alive: () => false, signal: () => {} },
    host: { uid: () => 0, cores: () => 2, memory: () => ({ total: 2 ** 33, available: 2 ** 32 }), load: () => 0.5 },
    fetch: options.fetch ?? (() => Promise.reject(new Error("no network in unit tests"))),
    gatherFacts: () => ({ ...BARE_MACHINE, ...options.facts }),
    randomSuffix: () => "a1b2c3",
    platform: { os: "linux", arch: "x86_64" },
    selfCommand: ["/usr/local/bin/dnb"],
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onSignal: () => () => {},
    stdout,
    stderr,
  };
}
