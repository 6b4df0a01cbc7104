import type { Farm } from "./farm.ts";

/**
 * Derivations for farm tests: each records the host that built it (the `# host=` marker in that
 * host's nix.conf) and needs nothing from a store, so an empty /nix builds it.
 */
export function probeDerivations(
  systems: Readonly<Record<string, number>>,
  nonce: string,
  /** How long each build takes, for tests that measure busy time. */
  sleepSeconds = 0,
): string {
  const pause = sleepSeconds > 0 ? `/bin/sleep ${sleepSeconds}; ` : "";
  const entries = Object.entries(systems).map(([system, count]) =>
    `map (n: mk "${system}" n) (builtins.genList (i: i + 1) ${count})`
  );
  return [
    "let",
    "  mk = system: n: derivation {",
    `    name = "probe-\${system}-\${toString n}";`,
    "    inherit system;",
    `    nonce = "${nonce}";`,
    '    builder = "/bin/sh";',
    `    args = [ "-c" "${pause}/bin/grep '^# host=' /etc/nix/nix.conf > $out; /bin/echo \${system} >> $out" ];`,
    "  };",
    `in ${entries.join(" ++ ")}`,
    "",
  ].join("\n");
}

/** `host=b1`/`x86_64-linux` pairs from built outputs, in the order nix-build printed them. */
export function buildRecords(outputs: readonly string[]): { host: string; system: string }[] {
  return outputs.map((text) => {
    const [marker = "", system = ""] = text.trim().split("\n");
    return { host: marker.replace(/^# host=/, ""), system };
  });
}

/** One nix-build on a farm host, its outputs read back. */
export interface FarmBuild {
  readonly code: number;
  readonly stderr: string;
  /** The store paths nix-build printed, in its order; none when the build failed. */
  readonly paths: string[];
  /** Each path's content, read inside the host. */
  readonly outputs: string[];
  /** `buildRecords(outputs)`: who built each derivation of probeDerivations. */
  readonly records: { host: string; system: string }[];
}

/**
 * Writes `expression` to /tmp/<name>.nix in `host` (the coordinator unless told), builds it there with
 * `nix-build --max-jobs 0` so only the farm's builders build, and reads every output.
 */
export async function buildOnFarm(
  farm: Farm,
  expression: string,
  options: { host?: string; name?: string; env?: Readonly<Record<string, string>> } = {},
): Promise<FarmBuild> {
  const host = options.host ?? "coord";
  const file = `/tmp/${options.name ?? "build"}.nix`;
  Deno.writeTextFileSync(`${farm.host(host).dir}${file}`, expression);
  const build = await farm.run(host, ["nix-build", "--max-jobs", "0", "--no-out-link", file], {
    env: options.env,
    timeoutMs: 120_000,
  });
  if (build.code !== 0) return { code: build.code, stderr: build.stderr, paths: [], outputs: [], records: [] };
  const paths = build.stdout.trim().split("\n");
  const outputs = await Promise.all(paths.map(async (path) => {
    const read = await farm.run(host, ["cat", path]);
    if (read.code !== 0) throw new Error(`cannot read ${path} on ${host}: ${read.stderr}`);
    return read.stdout;
  }));
  return { code: 0, stderr: build.stderr, paths, outputs, records: buildRecords(outputs) };
}
