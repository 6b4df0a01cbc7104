/**
 * `deno task demo`: a whole farm on this machine (a coordinator, an x86_64-linux builder and one
 * posing as aarch64-linux), real dnb in each host, and a distributed nix-build that shows which
 * host built which derivation. Needs root on Linux; installs missing Debian packages itself, and
 * builds tailscale and headscale with Go into a cache the first time (a few minutes).
 */
import { createFarm, type Farm } from "../e2e/harness/farm.ts";
import { exitWithin, log, runCoordinator, startBuilder } from "../e2e/harness/dnb.ts";
import { buildOnFarm, probeDerivations } from "../e2e/harness/nix_fixtures.ts";
import { FARM_PACKAGES, missingPrerequisites } from "../e2e/harness/prerequisites.ts";

/** A failure the demo explains in one line; thrown, so the farm is removed on the way out. */
class DemoFailure extends Error {}

function fail(message: string): never {
  throw new DemoFailure(message);
}

function exitWith(error: unknown): never {
  console.error(`demo: ${error instanceof DemoFailure ? error.message : (error as Error).stack ?? error}`);
  Deno.exit(1);
}

function canApt(): boolean {
  try {
    return Deno.statSync("/usr/bin/apt-get").isFile;
  } catch {
    return false;
  }
}

async function installPrerequisites(): Promise<void> {
  if (Deno.build.os !== "linux") fail("the farm is made of Linux namespaces; run the demo on Linux");
  let missing = missingPrerequisites();
  if (missing.includes("root")) {
    fail("the farm needs root (namespaces, mounts): run it as root, e.g. sudo -E npx -y deno@2.9.6 task demo");
  }
  if (missing.length > 0) {
    if (!canApt()) fail(`missing ${missing.join(", ")}; install ${FARM_PACKAGES.join(" ")} or their equivalents`);
    console.log(`demo: installing ${FARM_PACKAGES.join(" ")} from Debian (missing: ${missing.join(", ")})`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...FARM_PACKAGES]]) {
      const result = await new Deno.Command("apt-get", { args, env, stdout: "null" }).output();
      if (!result.success) fail(`apt-get ${args[0]} failed: ${new TextDecoder().decode(result.stderr).trim()}`);
    }
    missing = missingPrerequisites();
    if (missing.length > 0) fail(`still missing ${missing.join(", ")}`);
  }
}

/** Builders and a coordinator in their hosts, then a distributed build; says who built what. */
async function distributedBuild(farm: Farm): Promise<void> {
  const builders = ["b1", "b2"].map((name) => startBuilder(farm, name));
  console.log("demo: dnb --role builder runs on b1 and b2; dnb --role coordinator --builders 'b1 b2' on coord:\n");
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "60"]);
  console.log(coordinator.stderr.trimEnd().split("\n").map((line) => `  ${line}`).join("\n"));
  if (coordinator.code !== 0) fail(`the coordinator exited ${coordinator.code}\n${builders.map(log).join("\n")}`);

  console.log("\ndemo: on coord: nix-build --max-jobs 0 of 3 x86_64-linux and 3 aarch64-linux derivations");
  const build = await buildOnFarm(
    farm,
    probeDerivations({ "x86_64-linux": 3, "aarch64-linux": 3 }, crypto.randomUUID()),
    { name: "demo" },
  );
  if (build.code !== 0) fail(`nix-build failed:\n${build.stderr}`);
  const { paths, records } = build;
  console.log("\n| derivation | system | built on |\n|---|---|---|");
  paths.forEach((path, index) => {
    const record = records[index]!;
    console.log(`| ${path.replace(/^\/nix\/store\/[a-z0-9]{32}-/, "")} | ${record.system} | ${record.host} |`);
  });
  const right = records.every((record) => record.host === (record.system === "x86_64-linux" ? "b1" : "b2"));
  console.log(
    `\ndemo: ${
      right ? "every derivation was built on the builder of its system" : "SOME DERIVATIONS LANDED ON THE WRONG HOST"
    }`,
  );

  for (const name of ["b1", "b2"]) Deno.writeTextFileSync(`${farm.host(name).dir}/tmp/dnb/done`, "");
  const exits = await Promise.all(builders.map((builder) => exitWithin(builder, 20_000)));
  console.log(`demo: builders released; they exited with ${exits.map((exit) => exit.code).join(" and ")}`);
  if (!right) fail("the farm put derivations on the wrong builders");
}

async function demo(): Promise<void> {
  await installPrerequisites();
  console.log("demo: making a farm: coord, b1 (x86_64-linux), b2 (posing as aarch64-linux)");
  const farm = await createFarm({
    hosts: [{ name: "coord" }, { name: "b1" }, { name: "b2", system: "aarch64-linux" }],
  });
  console.log(
    farm.kind === "real"
      ? "demo: the tailnet is real: Headscale on the farm's switch, tailscaled in every host, Tailscale SSH"
      : "demo: the tailnet is the Tailscale double (no Go here to build tailscale and headscale)",
  );
  try {
    await distributedBuild(farm);
  } finally {
    await farm.destroy();
    console.log("demo: farm removed");
  }
}

await demo().catch(exitWith);
