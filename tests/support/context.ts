import type { Context } from "../../lib/core/context.ts";
import type { MachineFacts } from "../../lib/core/facts.ts";
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
  /** Every path the command asked about or read. */
  readonly touched: string[];
}

export function testContext(
  options: {
    env?: Record<string, string>;
    files?: Record<string, string>;
    facts?: Partial<MachineFacts>;
    fetch?: Context["fetch"];
  } = {},
): TestContext {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const touched: string[] = [];
  const files = options.files ?? {};
  return {
    runner: new FakeRunner(),
    redactor: new Redactor(),
    env: options.env ?? {},
    out: (text) => stdout.push(text),
    err: (line) => stderr.push(line),
    readTextFile: (path) => {
      touched.push(path);
      const content = files[path];
      if (content === undefined) throw new Deno.errors.NotFound(`No such file or directory (os error 2): ${path}`);
      return content;
    },
    fileExists: (path) => {
      touched.push(path);
      return path in files;
    },
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
    touched,
  };
}
