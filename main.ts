/**
 * dnb's entry point: the only file that reads Deno.args and the environment; it builds the
 * real context, and exits with the code the CLI returns.
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { runCli } from "./lib/cli.ts";
import { DenoRunner } from "./lib/core/exec.ts";
import { isSecretName } from "./lib/core/child_env.ts";
import { gatherFacts } from "./lib/core/facts.ts";
import { Files } from "./lib/core/files.ts";
import { Redactor } from "./lib/core/redact.ts";
import { DETERMINATE_LAUNCHD_PLIST, NIX_DAEMON_SOCKET } from "./lib/nix/daemon.ts";
import { systemTailscaledSocket } from "./lib/tailnet/args.ts";

// Read once: the config takes the auth key and the OIDC request token from here. Then they leave the
// process environment, so no child (tailscaled, the watchdog, ssh, nix) inherits them; the runner
// hands children an allow-listed environment besides.
const env = Deno.env.toObject();
for (const name of Object.keys(env).filter(isSecretName)) Deno.env.delete(name);
// From source the CLI is `deno run … main.ts`; compiled, the binary itself.
const fromSource = basename(Deno.execPath()) === "deno";
const mainFile = fromFileUrl(Deno.mainModule);
const selfCommand = fromSource
  ? [Deno.execPath(), "run", "-A", "--frozen", "--config", join(dirname(mainFile), "deno.json"), mainFile]
  : [Deno.execPath()];
const encoder = new TextEncoder();
const redactor = new Redactor();
const files = new Files();
const platform = { os: Deno.build.os, arch: Deno.build.arch };

const code = await runCli(Deno.args, basename(Deno.execPath()), {
  runner: new DenoRunner({ env }),
  redactor,
  env,
  out: (text) => Deno.stdout.writeSync(encoder.encode(text)),
  err: (line) => Deno.stderr.writeSync(encoder.encode(`${line}\n`)),
  files,
  processes: {
    alive: (pid) => {
      try {
        Deno.kill(pid, "SIGCONT");
        return true;
      } catch {
        return false;
      }
    },
    signal: (pid, signal) => {
      try {
        Deno.kill(pid, signal);
      } catch {
        // Already gone.
      }
    },
  },
  host: {
    uid: () => Deno.uid() ?? -1,
    cores: () => navigator.hardwareConcurrency,
    memory: () => Deno.systemMemoryInfo(),
    load: () => Deno.loadavg()[0] ?? 0,
  },
  fetch: (url, init) => fetch(url, init),
  gatherFacts: () =>
    gatherFacts(files, platform, env.PATH ?? "", {
      nixDaemonSocket: NIX_DAEMON_SOCKET,
      determinateLaunchdPlist: DETERMINATE_LAUNCHD_PLIST,
      systemTailscaledSocket: systemTailscaledSocket(Deno.build.os),
    }),
  randomSuffix: () => crypto.randomUUID().slice(0, 6),
  platform,
  selfCommand,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onSignal: (handler) => {
    const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
      const listener = () => handler(signal);
      Deno.addSignalListener(signal, listener);
      return [signal, listener] as const;
    });
    return () => listeners.forEach(([signal, listener]) => Deno.removeSignalListener(signal, listener));
  },
});
Deno.exit(code);
