/**
 * Another user of the machine plants dnb's state folder, or a folder above it, and waits for root to run
 * `dnb post`, `stop`, `status` or `doctor` (the action's post step does, as root). The planted folder
 * holds what each command trusted: a changes.json that restores a setuid copy over a root file, a
 * tailscale.json whose `bin` is the planter's script, pid files naming a root process, and an ssh_config
 * whose ProxyCommand runs as root. Each command must refuse the folder in one line, exit 1 and do nothing.
 * The planter is user nobody (uid 65534), through setpriv. These need root; under CI they never skip.
 * No tailnet is involved: each command refuses the folder before it would reach one.
 */
import assert from "node:assert/strict";
import type { Cluster } from "../../lib/farm/cluster.ts";
import { builderInfo } from "../support/builder_info.ts";
import { fromFileUrl } from "../support/paths.ts";
import { farmSettings } from "../support/cluster.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));
const NOBODY = 65534;

function missing(): string | undefined {
  if (Deno.build.os !== "linux") return "Linux";
  if (Deno.uid() !== 0) return "root";
  const setpriv = new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" });
  try {
    if (!setpriv.outputSync().success) return "setpriv";
  } catch {
    return "setpriv";
  }
  return undefined;
}

const MISSING = missing();
const UNDER_CI = Deno.env.get("CI") === "true";

/** Like the farm tests: off CI a missing prerequisite skips; under CI it fails. */
function rootTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: MISSING !== undefined && !UNDER_CI,
    fn: MISSING === undefined ? fn : () => Promise.reject(new Error(`needs ${MISSING} (CI=true does not skip)`)),
  });
}

/** Runs argv as user nobody, with no groups. */
function asNobody(argv: readonly string[]): void {
  const result = new Deno.Command("setpriv", {
    args: ["--reuid", `${NOBODY}`, "--regid", `${NOBODY}`, "--clear-groups", "--", ...argv],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(result.success, `as nobody: ${argv.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
}

/** A root process the planter wants killed. */
class Victim {
  readonly #child = new Deno.Command("sleep", { args: ["600"], stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  #ended = false;
  constructor() {
    this.#child.status.then(() => this.#ended = true);
  }
  get pid(): number {
    return this.#child.pid;
  }
  async alive(): Promise<boolean> {
    // A signal's effect is seen once the child's status promise has had its turn.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return !this.#ended;
  }
  async end(): Promise<void> {
    if (!this.#ended) this.#child.kill("SIGKILL");
    await this.#child.status;
  }
}

interface Planted {
  /** /tmp-like: root's, sticky and world-writable. */
  readonly base: string;
  readonly state: string;
  /** A root file the planted changes.json "restores" with the planter's bytes, setuid. */
  readonly target: string;
  readonly markers: readonly string[];
  readonly victim: Victim;
}

const TARGET_TEXT = "root's own file\n";

/** Everything a planted folder holds, written by root into `stage` for the planter to copy. */
function stageFiles(stage: string, state: string, base: string, target: string, victimPid: number): string[] {
  const markers = ["tailscale", "ssh"].map((name) => `${base}/marker-${name}`);
  const write = (name: string, text: string, mode = 0o644) =>
    Deno.writeTextFileSync(`${stage}/${name}`, text, { mode });
  Deno.mkdirSync(`${stage}/backup`);
  write("backup/planted", "#!/bin/sh\nexec /bin/sh -p\n");
  write(
    "changes.json",
    JSON.stringify([{ path: target, existed: true, backup: `${state}/backup/planted`, mode: 0o4755 }]),
  );
  write("evil-tailscale", `#!/bin/sh\ntouch ${markers[0]}\n`, 0o755);
  write(
    "tailscale.json",
    JSON.stringify({
      bin: `${state}/evil-tailscale`,
      socket: `${state}/tailscaled.sock`,
      ours: true,
      daemonPid: victimPid,
    }),
  );
  write("watchdog.pid", `${victimPid}\n`);
  write("ssh_config", `Host *\n  ProxyCommand /bin/sh -c 'touch ${markers[1]}'\n`);
  const cluster: Cluster = {
    version: 1,
    settings: farmSettings({ stateDir: state }),
    wanted: { kind: "names", names: ["b1"], tag: "tag:nix-builder" },
    readyAt: "2026-11-25T05:00:00.000Z",
    builders: [{
      alias: "b1",
      address: "100.64.0.2",
      hostKeys: [],
      info: builderInfo(),
      readySeconds: 1,
      claimedAt: "2026-11-25T05:00:00.000Z",
      lastHeartbeat: "2026-11-25T05:00:00.000Z",
      missed: 0,
      state: "ready",
    }],
  };
  write("cluster.json", JSON.stringify(cluster));
  return markers;
}

/**
 * A state folder at `<base>/<where>` holding everything above; `plantedBy` says who made the folder (and
 * its files): nobody, or root in a folder of nobody's (`<base>/nobody/state`).
 */
function plant(plantedBy: "nobody" | "root-under-nobody"): Planted {
  const base = Deno.makeTempDirSync({ prefix: "dnb-local-users-" });
  Deno.chmodSync(base, 0o1777);
  Deno.mkdirSync(`${base}/root-only`, { mode: 0o755 });
  const target = `${base}/root-only/target`;
  Deno.writeTextFileSync(target, TARGET_TEXT, { mode: 0o644 });
  const victim = new Victim();
  const state = plantedBy === "nobody" ? `${base}/state` : `${base}/nobody/state`;
  const stage = `${base}/stage`;
  Deno.mkdirSync(stage, { mode: 0o755 });
  const markers = stageFiles(stage, state, base, target, victim.pid);
  if (plantedBy === "nobody") {
    asNobody(["cp", "-R", "--preserve=mode", stage, state]);
  } else {
    asNobody(["mkdir", "-m", "755", `${base}/nobody`]);
    // As an earlier dnb run would have: root's folder, in a folder that nobody can rename it out of.
    new Deno.Command("cp", { args: ["-R", "--preserve=mode", stage, state] }).outputSync();
  }
  return { base, state, target, markers, victim };
}

async function cleanUp(planted: Planted): Promise<void> {
  await planted.victim.end();
  Deno.removeSync(planted.base, { recursive: true });
}

async function dnb(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Deno's own (its cache), without GITHUB_ACTIONS: one line, not the line and its annotation.
  const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--frozen", "--config", `${REPO}deno.json`, `${REPO}main.ts`, ...args],
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** Nothing the planter wanted happened: no marker, the root file as it was, the root process alive. */
async function assertNothingDone(planted: Planted): Promise<void> {
  for (const marker of planted.markers) {
    assert.throws(() => Deno.lstatSync(marker), Deno.errors.NotFound, `${marker} was made: a planted program ran`);
  }
  assert.equal(Deno.readTextFileSync(planted.target), TARGET_TEXT);
  assert.equal(Deno.statSync(planted.target).mode! & 0o7777, 0o644);
  assert.ok(await planted.victim.alive(), "a root process named in a planted pid file was signalled");
}

const COMMANDS = [["post"], ["stop"], ["status"], ["status", "--json"], ["doctor"]] as const;

rootTest(
  "a state folder another user planted is refused by post, stop, status and doctor, which do nothing",
  async (t) => {
    for (const command of COMMANDS) {
      await t.step(command.join(" "), async () => {
        const planted = plant("nobody");
        try {
          const result = await dnb([...command, "--state-dir", planted.state]);
          assert.equal(result.code, 1, result.stderr);
          assert.equal(result.stdout, "");
          const lines = result.stderr.trimEnd().split("\n");
          assert.equal(lines.length, 1, result.stderr);
          assert.match(lines[0]!, new RegExp(`^dnb: state folder ${planted.state} is owned by uid ${NOBODY}`));
          await assertNothingDone(planted);
        } finally {
          await cleanUp(planted);
        }
      });
    }
  },
);

rootTest("root's state folder inside another user's folder is refused: the planter could swap it", async (t) => {
  for (const command of COMMANDS) {
    await t.step(command.join(" "), async () => {
      const planted = plant("root-under-nobody");
      try {
        const result = await dnb([...command, "--state-dir", planted.state]);
        assert.equal(result.code, 1, result.stderr);
        const lines = result.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, result.stderr);
        assert.match(
          lines[0]!,
          new RegExp(
            `^dnb: state folder ${planted.state} is refused: ${planted.base}/nobody is owned by uid ${NOBODY}`,
          ),
        );
        await assertNothingDone(planted);
      } finally {
        await cleanUp(planted);
      }
    });
  }
});

rootTest("a role does not create its state folder through another user's link", async () => {
  const base = Deno.makeTempDirSync({ prefix: "dnb-local-users-" });
  try {
    Deno.chmodSync(base, 0o1777);
    Deno.mkdirSync(`${base}/root-only`, { mode: 0o700 });
    // The planter points a folder of the path at a root folder it cannot write itself.
    asNobody(["ln", "-s", `${base}/root-only`, `${base}/link`]);
    const result = await dnb([
      "--role",
      "coordinator",
      "--hostname",
      "c1",
      "--builders",
      "b1",
      "--state-dir",
      `${base}/link/dnb`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr.trimEnd(),
      new RegExp(`^dnb: state folder ${base}/link/dnb is refused: ${base}/link is owned by uid ${NOBODY}`),
    );
    assert.deepEqual([...Deno.readDirSync(`${base}/root-only`)], [], "nothing was made through the link");
    assert.equal(Deno.statSync(`${base}/root-only`).mode! & 0o7777, 0o700);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
