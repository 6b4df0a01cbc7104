/**
 * The utilization report after a real distributed build on the real tailnet (Headscale, tailscaled,
 * Tailscale SSH): builders count what they built, the coordinator shows it.
 */
import assert from "node:assert/strict";
import { createFarm, TWO_SYSTEM_HOSTS } from "./harness/farm.ts";
import { dnbArgv, exitWithin, log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { buildOnFarm, probeDerivations } from "./harness/nix_fixtures.ts";
import { realTailnetTest } from "./harness/prerequisites.ts";
import { eventually } from "../support/eventually.ts";
import { actionsEnv, HOST_STEP_FILES } from "../support/github.ts";

interface StatusBuilder {
  name: string;
  state: string;
  usage: {
    derivations: number;
    busySeconds: number;
    claimedSeconds: number;
    utilizationPercent: number;
    at: string;
  } | null;
}
interface Status {
  builders: StatusBuilder[];
  utilization: {
    buildersReporting: number;
    derivations: number;
    busyMinutes: number;
    runnerMinutes: number;
    utilizationPercent: number | null;
  };
}

/** Each build sleeps this long, so busy time must come from seeing builds run, not only from their logs. */
const BUILD_SECONDS = 4;

realTailnetTest(
  "after a distributed build, status and the post step's summary show each builder's derivations and busy time",
  async () => {
    await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
    const builders = ["b1", "b2"].map((name) => startBuilder(farm, name, ["--lease", "8"]));
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--lease", "8"]);
    assert.equal(coordinator.code, 0, coordinator.stderr);

    const build = await buildOnFarm(
      farm,
      probeDerivations({ "x86_64-linux": 3, "aarch64-linux": 2 }, crypto.randomUUID(), BUILD_SECONDS),
      { name: "usage" },
    );
    assert.equal(build.code, 0, build.stderr);
    assert.deepEqual(build.records.map((record) => record.host), ["b1", "b1", "b1", "b2", "b2"]);

    // The watchdog brings each builder's reading with its next heartbeat (every 2 s with --lease 8).
    let status: Status | undefined;
    await eventually("status shows every build", async () => {
      status = JSON.parse((await runDnb(farm, "coord", ["status", "--json"])).stdout) as Status;
      return status.utilization.derivations === 5;
    }, 20_000);
    const byName = new Map(status!.builders.map((builder) => [builder.name, builder.usage]));
    assert.equal(byName.get("b1")?.derivations, 3);
    assert.equal(byName.get("b2")?.derivations, 2);
    for (const usage of byName.values()) {
      assert.ok(usage !== null);
      // The builds of one builder ran side by side: about one build's time, never more than the claim.
      assert.ok(usage.busySeconds >= BUILD_SECONDS - 1, `busy ${usage.busySeconds}s`);
      assert.ok(usage.busySeconds <= usage.claimedSeconds, JSON.stringify(usage));
      assert.ok(usage.utilizationPercent > 0 && usage.utilizationPercent <= 100);
    }
    assert.equal(status!.utilization.buildersReporting, 2);
    assert.ok(status!.utilization.busyMinutes > 0);
    assert.ok(status!.utilization.runnerMinutes >= status!.utilization.busyMinutes);

    const text = await runDnb(farm, "coord", ["status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /\nbuilder +derivations +busy +claimed +utilization\nb1 +3 +[\d.]+s +[\dm.]+s +[\d.]+%\n/,
    );
    assert.match(text.stdout, /\nb2 +2 +/);
    assert.match(
      text.stdout,
      /\nfarm: 5 derivation\(s\); [\d.]+ busy minutes of [\d.]+ runner minutes \([\d.]+%\)\n/,
    );

    // The post step releases the builders with their final readings and puts the table in the step summary.
    const post = await farm.run("coord", dnbArgv(["post"]), {
      env: actionsEnv({ summary: HOST_STEP_FILES.summary }),
      timeoutMs: 120_000,
    });
    assert.equal(post.code, 0, post.stderr);
    assert.match(post.stderr, /dnb: stop: released b1, b2\n/);
    assert.match(post.stderr, /dnb: stop: +b1 +3 +/);
    assert.match(post.stderr, /dnb: stop: +farm: 5 derivation\(s\)/);
    assert.deepEqual((await Promise.all(builders.map((b) => exitWithin(b, 15_000)))).map((exit) => exit.code), [
      0,
      0,
    ]);
    assert.match(log(builders[0]!), /released this builder; leaving: built 3 derivation\(s\), busy [\d.]+s of /);
    const summary = Deno.readTextFileSync(`${farm.host("coord").dir}${HOST_STEP_FILES.summary}`);
    assert.match(
      summary,
      /### dnb: farm utilization\n\n\| builder \| derivations \| busy \| claimed \| utilization \|/,
    );
    assert.match(summary, /\n\| b1 \| 3 \| [\d.]+s \| [\dm.]+s \| [\d.]+% \|\n\| b2 \| 2 \| /);
    assert.match(
      summary,
      /\n\| \*\*farm\*\* \| \*\*5\*\* \| \*\*[\d.]+ min\*\* \| \*\*[\d.]+ min\*\* \| \*\*[\d.]+%\*\* \|\n/,
    );

    const after = JSON.parse((await runDnb(farm, "coord", ["status", "--json"])).stdout) as Status;
    assert.deepEqual(after.builders.map((builder) => [builder.state, builder.usage?.derivations]), [
      ["done", 3],
      ["done", 2],
    ]);
  },
);
