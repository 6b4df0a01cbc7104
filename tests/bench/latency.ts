/**
 * Per-derivation overhead at 0, 10 and 40 ms of one-way delay between the coordinator and its
 * builders (latency_relay.ts on the path every ssh connection to a builder takes), for a farm
 * dnb configured and for Nix configured by hand the way a careful user would: the same builders,
 * machines-file lines with the same fields, a plain ssh config. Workloads: 32 derivations that
 * sleep 2 s on 1, 2 and 4 builders of one job each, and 64 cheap derivations on 4. For the cheap
 * build, Nix's own -vvv log, timestamped line by line, gives where a derivation's time goes.
 * Run as root: deno run -A tests/bench/latency.ts (part of deno task bench); DNB_LATENCY_QUICK=1 runs
 * only 0 and 40 ms, one builder of sleepers and the cheap build, without the experiments (about 12
 * minutes instead of 40). Figures are printed and saved, never asserted.
 */
import { createFarm, type Farm } from "../e2e/harness/farm.ts";
import { log, runCoordinator, startBuilder } from "../e2e/harness/dnb.ts";
import { eventually } from "../support/eventually.ts";
import { fromFileUrl } from "../support/paths.ts";
import { machinesLine } from "../../lib/nix/machines_file.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";
import { derivations } from "./workloads.ts";
import { type Breakdown, breakdown } from "./nix_log_breakdown.ts";

const RELAY = fromFileUrl(new URL("./latency_relay.ts", import.meta.url));
const QUICK = Deno.env.get("DNB_LATENCY_QUICK") === "1";
const DELAYS_MS = QUICK ? [0, 40] : [0, 10, 40];
const SETUPS = ["dnb", "by hand"] as const;
type Setup = typeof SETUPS[number];

/** How the coordinator is configured: by dnb (with what changed for an experiment) or by hand. */
interface Variant {
  readonly name: string;
  readonly by: Setup;
  readonly jobsPerCore: number;
  /** dnb's `--ssh-master` (auto unless told). */
  readonly sshMaster?: "off";
  /** `compress=true` on each store URI: ssh -C. */
  readonly compress?: boolean;
}

const DNB: Variant = { name: "dnb", by: "dnb", jobsPerCore: 1 };
const BY_HAND: Variant = { name: "by hand", by: "by hand", jobsPerCore: 1 };
/** What dnb could change, each tried alone on the cheap build at the largest delay. */
const EXPERIMENTS: readonly Variant[] = [
  { name: "dnb, --ssh-master off", by: "dnb", jobsPerCore: 1, sshMaster: "off" },
  { name: "dnb + compress", by: "dnb", jobsPerCore: 1, compress: true },
  { name: "dnb, 2 jobs per core", by: "dnb", jobsPerCore: 2 },
  { name: "dnb, 4 jobs per core", by: "dnb", jobsPerCore: 4 },
];
const WORKLOADS = [
  { name: "32 × sleep 2 s", builders: 1, count: 32, sleep: 2 },
  { name: "32 × sleep 2 s", builders: 2, count: 32, sleep: 2 },
  { name: "32 × sleep 2 s", builders: 4, count: 32, sleep: 2 },
  { name: "64 cheap", builders: 4, count: 64, sleep: 0 },
].filter((workload) => !QUICK || workload.builders === 1 || workload.sleep === 0);

/** The tests' one polling loop, at the pace the benchmark needs. */
const until = (what: string, check: () => boolean | Promise<boolean>) => eventually(what, check, 60_000, 200);

/**
 * Every ssh connection from the coordinator to a builder goes through the relay, whoever starts it and
 * whatever config it reads (Nix's sessions, dnb's master and claims with `ssh -F`): the host's own bin
 * folder, first on every PATH in it, holds an `ssh` that adds a ProxyCommand to the builder's relay port.
 */
async function delayPaths(farm: Farm, names: readonly string[], delayMs: number): Promise<void> {
  const nodes = await farm.nodes();
  const routes = names.map((name, index) => {
    const address = nodes.find((node) => node.hostName === name)?.ipv4;
    if (!address) throw new Error(`${name} is not on the tailnet`);
    return { name, port: 20001 + index, address };
  });
  const relay = farm.spawn("coord", [
    Deno.execPath(),
    "run",
    "--allow-net",
    RELAY,
    String(delayMs),
    ...routes.map((route) => `${route.port}=${route.address}:22`),
  ]);
  await until("the relay listens", () => log(relay).includes("relaying"));
  const bin = `${farm.host("coord").dir}/bin`;
  Deno.writeTextFileSync(
    `${bin}/latency-proxy`,
    [
      "#!/bin/sh",
      'case "$1" in',
      ...routes.map((route) => `  ${route.name}) exec socat - TCP:127.0.0.1:${route.port} ;;`),
      "esac",
      'echo "latency-proxy: no relay for $1" >&2; exit 1',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  Deno.writeTextFileSync(
    `${bin}/ssh`,
    `#!/bin/sh\nexec /usr/bin/ssh -o "ProxyCommand=${bin}/latency-proxy %n" "$@"\n`,
    { mode: 0o755 },
  );
}

/** What a careful user writes: the machines lines dnb would, builders in nix.conf, a plain ssh config. */
async function configureByHand(farm: Farm, names: readonly string[]): Promise<void> {
  await farm.joinWithSystemDaemon("coord", "coordinator");
  const nodes = await farm.nodes();
  const lines = names.map((name) => {
    const info = JSON.parse(Deno.readTextFileSync(`${farm.host(name).dir}/tmp/dnb/info.json`));
    return machinesLine({
      sshUser: "root",
      alias: name,
      nixDaemon: info.nixDaemon,
      systems: info.systems,
      cores: info.cores,
      jobsPerCore: 1,
      features: info.features,
      mandatoryFeatures: [],
      hostKey: farm.host(name).sshHostKey,
    });
  });
  const dir = farm.host("coord").dir;
  Deno.writeTextFileSync(`${dir}/etc-nix/machines`, lines.join("\n") + "\n");
  Deno.writeTextFileSync(
    `${dir}/etc-nix/nix.conf`,
    Deno.readTextFileSync(`${dir}/etc-nix/nix.conf`) +
      "builders = @/etc/nix/machines\nbuilders-use-substitutes = true\n",
  );
  Deno.writeTextFileSync(
    `${dir}/ssh_config.d/hand.conf`,
    names.map((name) => {
      const address = nodes.find((node) => node.hostName === name)!.ipv4;
      // HostKeyAlias: Nix checks the host key of its machines line under the name it connects to.
      return `Host ${name}\n  HostName ${address}\n  HostKeyAlias ${name}\n  User root\n`;
    }).join(""),
  );
}

function compressStores(farm: Farm): void {
  const machines = `${farm.host("coord").dir}/etc-nix/machines`;
  Deno.writeTextFileSync(
    machines,
    Deno.readTextFileSync(machines).replace(
      /^ssh-ng:\/\/\S+/gm,
      (uri) => `${uri}${uri.includes("?") ? "&" : "?"}compress=true`,
    ),
  );
}

async function farmFor(variant: Variant, builders: number, delayMs: number): Promise<Farm> {
  const names = Array.from({ length: builders }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({
    hosts: [{ name: "coord" }, ...names.map((name) => ({ name, cores: 1 }))],
    tailnet: BENCH_TAILNET,
  });
  try {
    const started = names.map((name) => startBuilder(farm, name, ["--builder-timeout", "3600"]));
    await until("the builders wait", () => started.every((builder) => log(builder).includes("waiting")));
    await delayPaths(farm, names, delayMs);
    if (variant.by === "dnb") {
      const coordinator = await runCoordinator(farm, "coord", [
        "--builders",
        names.join(" "),
        "--jobs-per-core",
        String(variant.jobsPerCore),
        ...(variant.sshMaster ? ["--ssh-master", variant.sshMaster] : []),
      ]);
      if (coordinator.code !== 0) throw new Error(coordinator.stderr);
    } else {
      await configureByHand(farm, names);
    }
    if (variant.compress) compressStores(farm);
    return farm;
  } catch (error) {
    await farm.destroy();
    throw error;
  }
}

/** nix-build with its -vvv log timestamped line by line (perl: one process, not one per line). */
async function timedBuild(farm: Farm, count: number, sleep: number): Promise<{ seconds: number; log: string }> {
  Deno.writeTextFileSync(`${farm.host("coord").dir}/tmp/work.nix`, derivations(count, sleep));
  const started = performance.now();
  const build = await farm.run("coord", [
    "bash",
    "-c",
    "set -o pipefail; nix-build -vvv --max-jobs 0 --no-out-link /tmp/work.nix 2>&1 >/dev/null | " +
    "perl -MTime::HiRes=time -ne '$|=1; printf(\"%.3f %s\", time, $_)'",
  ], { timeoutMs: 900_000 });
  const seconds = (performance.now() - started) / 1000;
  if (build.code !== 0) throw new Error(`the build failed:\n${build.stdout.slice(-2000)}`);
  return { seconds, log: build.stdout };
}

async function measure(
  variant: Variant,
  workload: typeof WORKLOADS[number],
  delayMs: number,
): Promise<{ seconds: number; breakdown: Breakdown }> {
  const farm = await farmFor(variant, workload.builders, delayMs);
  try {
    const build = await timedBuild(farm, workload.count, workload.sleep);
    const seconds = Number(build.seconds.toFixed(2));
    console.error(`${delayMs} ms, ${workload.name} on ${workload.builders}, ${variant.name}: ${seconds} s`);
    return { seconds, breakdown: breakdown(build.log) };
  } finally {
    await farm.destroy();
  }
}

interface Row {
  delayMs: number;
  workload: string;
  builders: number;
  seconds: Record<Setup, number>;
  breakdown?: Record<Setup, Breakdown>;
}

const rows: Row[] = [];
for (const delayMs of DELAYS_MS) {
  for (const workload of WORKLOADS) {
    const dnb = await measure(DNB, workload, delayMs);
    const byHand = await measure(BY_HAND, workload, delayMs);
    rows.push({
      delayMs,
      workload: workload.name,
      builders: workload.builders,
      seconds: { dnb: dnb.seconds, "by hand": byHand.seconds },
      ...(workload.sleep === 0 && { breakdown: { dnb: dnb.breakdown, "by hand": byHand.breakdown } }),
    });
  }
}
const cheap = WORKLOADS.find((workload) => workload.sleep === 0)!;
const largest = Math.max(...DELAYS_MS);
const experiments: { name: string; seconds: number; breakdown: Breakdown }[] = [];
for (const variant of QUICK ? [] : EXPERIMENTS) {
  experiments.push({ name: variant.name, ...await measure(variant, cheap, largest) });
}

console.log(
  `\nper-derivation overhead, ${BENCH_TAILNET} tailnet, ${navigator.hardwareConcurrency} cores, builders of 1 job`,
);
console.log(
  "| one-way delay | build | builders | dnb (s) | by hand (s) | dnb ÷ by hand |\n|---:|---|---:|---:|---:|---:|",
);
for (const row of rows) {
  console.log(
    `| ${row.delayMs} ms | ${row.workload} | ${row.builders} | ${row.seconds.dnb.toFixed(2)} | ` +
      `${row.seconds["by hand"].toFixed(2)} | ${(row.seconds.dnb / row.seconds["by hand"]).toFixed(2)} |`,
  );
}
console.log("\nwhere a cheap derivation's time goes (mean ms per derivation, from Nix's -vvv log)");
console.log(
  "| one-way delay | setup | postponed: a slot, then Nix's poll | connect: ssh, remote daemon | copy in, build, copy out |",
);
console.log("|---:|---|---:|---:|---:|");
for (const row of rows.filter((candidate) => candidate.breakdown)) {
  for (const setup of SETUPS) {
    const parts = row.breakdown![setup];
    console.log(`| ${row.delayMs} ms | ${setup} | ${parts.postponedMs} | ${parts.connectMs} | ${parts.remoteMs} |`);
  }
}
const reference = rows.find((row) => row.delayMs === largest && row.workload === cheap.name)!;
console.log(`\nwhat dnb could change, each alone: 64 cheap derivations on 4 builders at ${largest} ms`);
console.log("| variant | wall (s) | ÷ by hand | postponed (ms) | connect (ms) | copy in, build, copy out (ms) |");
console.log("|---|---:|---:|---:|---:|---:|");
const tried = [{ name: "dnb", seconds: reference.seconds.dnb, breakdown: reference.breakdown!.dnb }, ...experiments];
for (const { name, seconds, breakdown: parts } of tried) {
  console.log(
    `| ${name} | ${seconds.toFixed(2)} | ${(seconds / reference.seconds["by hand"]).toFixed(2)} | ` +
      `${parts.postponedMs} | ${parts.connectMs} | ${parts.remoteMs} |`,
  );
}
saveResults(QUICK ? "latencyQuick" : "latency", { rows, experiments });
