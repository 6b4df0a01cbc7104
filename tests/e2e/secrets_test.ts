/**
 * Secret hygiene over a whole farm run (join, claim, build, status, stop): what another user of the
 * machine can read, and every log, state file, summary and output, holds neither the auth key nor the
 * OAuth secret. On the double: it plays the Tailscale SaaS's OAuth client secrets, which Headscale
 * does not have, and records the mode of each key file `tailscale up` read.
 */
import assert from "node:assert/strict";
import { createFarm, FARM_AUTH_KEY, FARM_OAUTH_SECRET, TWO_SYSTEM_HOSTS } from "./harness/farm.ts";
import { exitWithin, log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { buildOnFarm, probeDerivations } from "./harness/nix_fixtures.ts";
import { farmTest } from "./harness/prerequisites.ts";
import { keyFileModesPath } from "./harness/tailnet.ts";
import { actionsEnv, HOST_STEP_FILES } from "../support/github.ts";

const NOBODY = "65534";

/**
 * Reads every process's argv and environment as user nobody, every 100 ms until told to stop, and
 * prints each entry that holds one of the patterns. /proc/<pid>/environ of another user's process is
 * unreadable to nobody, so what it prints is exactly what other users can see.
 */
const SAMPLER = `#!/bin/sh
patterns=$1 stop=$2
while [ ! -e "$stop" ]; do
  cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -F -f "$patterns"
  echo "-- sample"
  sleep 0.1
done
`;

interface Sampler {
  /** Ends the sampler and returns every line it printed. */
  finish(): Promise<string[]>;
}

function startSampler(dir: string, patterns: readonly string[]): Sampler {
  Deno.chmodSync(dir, 0o755);
  Deno.writeTextFileSync(`${dir}/patterns`, `${patterns.join("\n")}\n`, { mode: 0o644 });
  Deno.writeTextFileSync(`${dir}/sampler.sh`, SAMPLER, { mode: 0o755 });
  const child = new Deno.Command("setpriv", {
    args: [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--",
      "/bin/sh",
      `${dir}/sampler.sh`,
      `${dir}/patterns`,
      `${dir}/stop`,
    ],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let lines: Promise<string[]> | undefined;
  return {
    finish() {
      Deno.writeTextFileSync(`${dir}/stop`, "");
      lines ??= child.output().then((output) =>
        new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "")
      );
      return lines;
    },
  };
}

farmTest("no auth key or OAuth secret where other users, logs, state, summaries or outputs show it", async () => {
  const farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS, tailnet: "double" });
  const samplerDir = Deno.makeTempDirSync({ prefix: "dnb-secrets-" });
  const canary = crypto.randomUUID();
  // Controls that show the sampler sees what it should: a root process's argv, a nobody process's
  // environment; and that a root process's environment is hidden from it.
  const argvCanary = `dnb-canary-argv-${canary}`;
  const nobodyEnvCanary = `DNB_CANARY_NOBODY=${canary}`;
  const rootEnvCanary = `DNB_CANARY_ROOT=${canary}`;
  const controls = [
    new Deno.Command("sh", {
      args: ["-c", "sleep 600", argvCanary],
      env: { DNB_CANARY_ROOT: canary },
      stdout: "null",
      stderr: "null",
    }).spawn(),
    new Deno.Command("setpriv", {
      args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", "sleep", "600"],
      env: { DNB_CANARY_NOBODY: canary },
      stdout: "null",
      stderr: "null",
    }).spawn(),
  ];
  const sampler = startSampler(samplerDir, [
    FARM_AUTH_KEY,
    FARM_OAUTH_SECRET,
    argvCanary,
    nobodyEnvCanary,
    rootEnvCanary,
  ]);
  try {
    const builders = [
      startBuilder(farm, "b1", [], { TS_AUTHKEY: FARM_AUTH_KEY }),
      startBuilder(farm, "b2", [], { TS_AUTHKEY: FARM_OAUTH_SECRET }),
    ];
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "60"], {
      TS_AUTHKEY: FARM_OAUTH_SECRET,
      // A job with `id-token: write` has these too; the key wins, but no child may inherit them.
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc-request-token-canary",
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.invalid/oidc?canary=1",
      ...actionsEnv(HOST_STEP_FILES),
    });
    assert.equal(coordinator.code, 0, coordinator.stderr + builders.map(log).join("\n"));
    // As root: no child of dnb (tailscaled, the watchdog, ssh, nix) inherited the key or the OIDC request token;
    // only the dnb processes the test itself started hold them, in the environment it gave them.
    const children = (await Promise.all(["coord", "b1", "b2"].map((host) => farm.processDetails(host)))).flat()
      .filter((process) => !process.cmdline.includes("--role"));
    assert.ok(children.some((process) => process.cmdline.includes(" watchdog --state-dir")), "no watchdog to read");
    assert.ok(children.filter((process) => process.cmdline.includes("--statedir=/tmp/dnb/tailscale")).length >= 3);
    for (const process of children) {
      for (const secret of [FARM_AUTH_KEY, FARM_OAUTH_SECRET, "ACTIONS_ID_TOKEN_REQUEST"]) {
        assert.ok(!process.environ.includes(secret), `${process.cmdline} inherited ${secret}`);
      }
    }
    const build = await buildOnFarm(farm, probeDerivations({ "x86_64-linux": 1, "aarch64-linux": 1 }, canary), {
      name: "probe",
    });
    assert.equal(build.code, 0, build.stderr);
    const status = await runDnb(farm, "coord", ["status"]);
    assert.equal(status.code, 0, status.stderr);
    const stop = await runDnb(farm, "coord", ["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    for (const builder of builders) assert.equal((await exitWithin(builder, 20_000)).code, 0, log(builder));

    const seen = await sampler.finish();
    const samples = seen.filter((line) => line === "-- sample").length;
    assert.ok(samples >= 20, `only ${samples} samples`);
    assert.ok(seen.some((line) => line.includes(argvCanary)), "the sampler misses other users' argv");
    assert.ok(seen.some((line) => line === nobodyEnvCanary), "the sampler misses environments it may read");
    assert.ok(!seen.some((line) => line === rootEnvCanary), "root's environment is readable by other users");
    assert.deepEqual(seen.filter((line) => line.includes(FARM_AUTH_KEY) || line.includes(FARM_OAUTH_SECRET)), []);

    // Every line dnb printed: the only secrets are the runner's mask commands, which the runner swallows.
    const printed = [coordinator.stdout, coordinator.stderr, status.stdout, status.stderr, stop.stdout, stop.stderr]
      .join("\n").split("\n").filter((line) => !line.startsWith("::add-mask::"));
    assert.ok(printed.some((line) => line.startsWith("dnb: ")), "dnb printed nothing to search");
    assert.ok(coordinator.stdout.includes(`::add-mask::${FARM_OAUTH_SECRET}\n`));
    // And the form tailscale up gets, with the attributes dnb adds.
    assert.ok(coordinator.stdout.includes(`::add-mask::${FARM_OAUTH_SECRET}?ephemeral=true&preauthorized=true\n`));
    for (const line of printed) {
      assert.ok(!line.includes(FARM_AUTH_KEY) && !line.includes(FARM_OAUTH_SECRET), `printed: ${line}`);
    }

    // Every file of the run but the double's control plane: logs (builders', watchdog's), state, backups,
    // known_hosts, ssh config, nix.conf, the step summary and the outputs.
    const coordDir = farm.host("coord").dir;
    const searched = [
      HOST_STEP_FILES.output,
      HOST_STEP_FILES.summary,
      "/logs/dnb-builder.log",
      "/tmp/dnb/watchdog.log",
    ];
    for (const path of searched) {
      const host = path.startsWith("/logs/") ? "b1" : "coord";
      assert.ok(Deno.statSync(`${farm.host(host).dir}${path}`).size > 0, `${path} is empty: nothing to search`);
    }
    for (const secret of [FARM_AUTH_KEY, FARM_OAUTH_SECRET]) {
      const grep = await new Deno.Command("grep", {
        // Not the double's control plane (it holds the keys it accepts) nor the namespace handles.
        args: ["-rlF", `--exclude-dir=${farm.tailnet.split("/").pop()}`, "--exclude-dir=ns", secret, farm.dir],
      }).output();
      assert.equal(
        grep.code,
        1,
        `files holding the secret:\n${new TextDecoder().decode(grep.stdout)}${new TextDecoder().decode(grep.stderr)}`,
      );
    }
    assert.ok(!Deno.readTextFileSync(`${coordDir}${HOST_STEP_FILES.summary}`).includes("tskey-"));

    // Each `tailscale up` read its key from a file only root could read, and the file is gone.
    const modes = Deno.readTextFileSync(keyFileModesPath(farm.tailnet)).trim().split("\n").sort();
    assert.deepEqual(modes, ["b1 0600", "b2 0600", "coord 0600"]);
    for (const host of ["coord", "b1", "b2"]) {
      assert.throws(() => Deno.statSync(`${farm.host(host).dir}/tmp/dnb/authkey`), Deno.errors.NotFound);
    }
  } finally {
    await sampler.finish();
    for (const control of controls) {
      control.kill("SIGKILL");
      await control.status;
    }
    Deno.removeSync(samplerDir, { recursive: true });
    await farm.destroy();
  }
});
