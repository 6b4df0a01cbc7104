/**
 * The real tailnet's programs: the Tailscale client dnb installs on Linux runners and a Headscale
 * release that supports it, built from the Go module proxy at pinned versions into a cache folder
 * outside the checkout, once per machine. Later runs reuse them.
 */
import { TAILSCALE_VERSION } from "../../../lib/tailnet/install.ts";

/** Headscale 0.29 accepts clients from Tailscale 1.80 on (its capver table), so 1.94 included. */
export const HEADSCALE_VERSION = "v0.29.2";
export const TAILSCALE_MODULE_VERSION = `v${TAILSCALE_VERSION}`;

export interface TailnetBinaries {
  readonly tailscale: string;
  readonly tailscaled: string;
  readonly headscale: string;
}

export function binaryCache(env: Readonly<Record<string, string | undefined>> = Deno.env.toObject()): string {
  return env.DNB_FARM_CACHE ?? "/var/cache/dnb-farm";
}

function folders(cache: string): { tailscale: string; headscale: string } {
  return {
    tailscale: `${cache}/tailscale-${TAILSCALE_MODULE_VERSION}`,
    headscale: `${cache}/headscale-${HEADSCALE_VERSION}`,
  };
}

function binariesIn(cache: string): TailnetBinaries {
  const folder = folders(cache);
  return {
    tailscale: `${folder.tailscale}/tailscale`,
    tailscaled: `${folder.tailscale}/tailscaled`,
    headscale: `${folder.headscale}/headscale`,
  };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The binaries when all three are in the cache, else undefined. */
export function cachedBinaries(cache = binaryCache()): TailnetBinaries | undefined {
  const binaries = binariesIn(cache);
  return Object.values(binaries).every(isFile) ? binaries : undefined;
}

/** Whether the machine has a Go toolchain to build them with. */
export function goAvailable(): boolean {
  try {
    return new Deno.Command("go", { args: ["version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Runs `go` with its output shown (its "downloading" lines are the progress), in a build
 * environment of its own: no cgo (both projects release that way), modules from the proxy.
 */
async function go(args: readonly string[], cwd: string, env: Record<string, string>): Promise<void> {
  const status = await new Deno.Command("go", {
    args: [...args],
    cwd,
    env: { CGO_ENABLED: "0", GOFLAGS: "", ...env },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`go ${args.join(" ")} exited ${status.code}`);
}

/**
 * Builds into a fresh folder beside the final one, then renames it into place: a build cut short
 * leaves no half folder that looks complete, and two builds at once both end with a whole one.
 */
async function buildInto(target: string, build: (scratch: string, out: string) => Promise<void>): Promise<void> {
  const out = `${target}.partial-${Deno.pid}`;
  const scratch = Deno.makeTempDirSync({ prefix: "dnb-farm-build-" });
  Deno.mkdirSync(out, { recursive: true });
  try {
    await build(scratch, out);
    try {
      Deno.renameSync(out, target);
    } catch (error) {
      // Another build got there first: its folder is as good as ours.
      if (!hasEntries(target)) throw error;
    }
  } finally {
    for (const leftover of [scratch, out]) {
      try {
        Deno.removeSync(leftover, { recursive: true });
      } catch {
        // Renamed into place, or never made.
      }
    }
  }
}

function hasEntries(folder: string): boolean {
  try {
    return [...Deno.readDirSync(folder)].length > 0;
  } catch {
    return false;
  }
}

async function buildTailscale(target: string, say: (line: string) => void): Promise<void> {
  say(`building tailscale and tailscaled ${TAILSCALE_MODULE_VERSION} with go into ${target} (about 3 minutes)`);
  await buildInto(target, (scratch, out) =>
    go(
      [
        "install",
        `tailscale.com/cmd/tailscale@${TAILSCALE_MODULE_VERSION}`,
        `tailscale.com/cmd/tailscaled@${TAILSCALE_MODULE_VERSION}`,
      ],
      scratch,
      { GOBIN: out },
    ));
}

/**
 * `go install headscale@version` fails on the proxy's version list (403 "This module version is not
 * available" for @v/list); `go get` of the exact version in a scratch module is served.
 */
async function buildHeadscale(target: string, say: (line: string) => void): Promise<void> {
  say(`building headscale ${HEADSCALE_VERSION} with go into ${target} (about 3 minutes)`);
  const module = "github.com/juanfont/headscale/cmd/headscale";
  await buildInto(target, async (scratch, out) => {
    await go(["mod", "init", "dnbfarm/headscale"], scratch, {});
    await go(["get", `${module}@${HEADSCALE_VERSION}`], scratch, {});
    await go(["build", "-o", `${out}/headscale`, module], scratch, {});
  });
}

/** The cached binaries, built first where missing; progress goes to `say`. */
export async function ensureTailnetBinaries(
  say: (line: string) => void = (line) => console.error(`farm: ${line}`),
  cache = binaryCache(),
): Promise<TailnetBinaries> {
  const ready = cachedBinaries(cache);
  if (ready) return ready;
  if (!goAvailable()) {
    throw new Error("the real tailnet needs Go to build tailscale and headscale, and none is on PATH");
  }
  Deno.mkdirSync(cache, { recursive: true });
  const binaries = binariesIn(cache);
  const folder = folders(cache);
  const started = performance.now();
  const builds: Promise<void>[] = [];
  if (!isFile(binaries.tailscale) || !isFile(binaries.tailscaled)) builds.push(buildTailscale(folder.tailscale, say));
  if (!isFile(binaries.headscale)) builds.push(buildHeadscale(folder.headscale, say));
  await Promise.all(builds);
  const built = cachedBinaries(cache);
  if (!built) throw new Error(`the build finished but ${cache} lacks a binary`);
  say(`built in ${((performance.now() - started) / 1000).toFixed(0)} s; later runs reuse ${cache}`);
  return built;
}

if (import.meta.main) {
  const binaries = await ensureTailnetBinaries((line) => console.log(line));
  console.log(`tailnet binaries: ${Object.values(binaries).join(" ")}`);
}
