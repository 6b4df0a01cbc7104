import { DnbError } from "../core/errors.ts";
import { expectSuccess, type Runner } from "../core/exec.ts";
import type { Redactor } from "../core/redact.ts";
import type { Context } from "../core/context.ts";

/** The Tailscale release dnb installs where none is present; the checksums pin its bytes. */
export const TAILSCALE_VERSION = "1.94.2";
export const TAILSCALE_DOWNLOADS = "https://pkgs.tailscale.com/stable";
export const TAILSCALE_SHA256: Readonly<Record<string, string>> = {
  amd64: "c6f99a5d774c7783b56902188d69e9756fc3dddfb08ac6be4cb2585f3fecdc32",
  arm64: "76300e808c57eb7853090d69c8bd8806e86341862e244183f6611f9105799bba",
};

/** Deno's arch name → the name in Tailscale's tarballs. */
export function tailscaleArch(arch: string): string {
  if (arch === "x86_64") return "amd64";
  if (arch === "aarch64") return "arm64";
  throw new DnbError(`no Tailscale build for ${arch}`, { hint: "install tailscale and pass --tailscale-bin" });
}

export function tarballName(version: string, arch: string): string {
  return `tailscale_${version}_${arch}.tgz`;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export interface InstallRequest {
  readonly baseUrl: string;
  readonly version: string;
  readonly arch: string;
  readonly sha256: string;
  /** Where `tailscale` and `tailscaled` go. */
  readonly destination: string;
  readonly timeoutMs: number;
}

/**
 * Downloads the static tarball, checks its sha256 before anything touches the disk, unpacks it in
 * a scratch folder and only then moves the two programs into place: a bad download leaves nothing
 * executable behind.
 */
export async function installTailscale(
  request: InstallRequest,
  effects: Pick<Context, "runner" | "redactor" | "fetch" | "files">,
): Promise<{ tailscale: string; tailscaled: string }> {
  const url = `${request.baseUrl}/${tarballName(request.version, request.arch)}`;
  let bytes: Uint8Array;
  try {
    const response = await effects.fetch(url, { signal: AbortSignal.timeout(request.timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new DnbError(`downloading ${url} failed: ${(error as Error).message}`, {
      hint: "install tailscale yourself and pass --tailscale-bin",
    });
  }
  const actual = await sha256Hex(bytes);
  if (actual !== request.sha256) {
    throw new DnbError(`${url} has sha256 ${actual}, expected ${request.sha256}; not installed`, {
      hint: "the download was altered or the pinned checksum is wrong",
    });
  }
  const { files } = effects;
  const scratch = `${request.destination}.partial-${crypto.randomUUID().slice(0, 8)}`;
  files.makeDir(scratch, 0o700);
  try {
    files.writeAtomic(`${scratch}/tailscale.tgz`, bytes, 0o600);
    expectSuccess(
      await effects.runner.run({
        argv: ["tar", "-xzf", files.at(`${scratch}/tailscale.tgz`), "-C", files.at(scratch), "--strip-components=1"],
        timeoutMs: request.timeoutMs,
      }),
      effects.redactor,
    );
    files.makeDir(request.destination, 0o755);
    const installed = {
      tailscale: `${request.destination}/tailscale`,
      tailscaled: `${request.destination}/tailscaled`,
    };
    for (const program of ["tailscale", "tailscaled"] as const) {
      files.chmod(`${scratch}/${program}`, 0o755);
      files.rename(`${scratch}/${program}`, installed[program]);
    }
    return installed;
  } finally {
    files.remove(scratch, { recursive: true });
  }
}

/** The Go module that builds Tailscale's CLI and daemon, at the release dnb installs elsewhere. */
export const TAILSCALE_MODULE = "tailscale.com";

/**
 * Where Tailscale ships no standalone binaries (macOS: only the GUI app), dnb builds the pinned
 * release from its Go module. `go install module@version` checks every module it downloads against
 * Go's checksum database, so the bytes are pinned and verified as the tarball's sha256 is on Linux.
 * The environment is dnb's own: a user's GOFLAGS, GONOSUMDB or GOINSECURE cannot turn that check off,
 * and no secret of dnb's environment reaches the build.
 */
export function goInstallSpec(
  go: string,
  version: string,
  destination: string,
  workDir: string,
  env: Readonly<Record<string, string | undefined>>,
): { argv: string[]; env: Record<string, string> } {
  return {
    argv: [
      go,
      "install",
      ...["tailscale", "tailscaled"].map((program) => `${TAILSCALE_MODULE}/cmd/${program}@v${version}`),
    ],
    env: {
      PATH: env.PATH ?? "/usr/bin:/bin",
      HOME: env.HOME ?? workDir,
      GOBIN: destination,
      GOPATH: `${workDir}/gopath`,
      GOCACHE: `${workDir}/gocache`,
      GOPROXY: "https://proxy.golang.org,direct",
      GOSUMDB: "sum.golang.org",
      GONOSUMDB: "",
      GONOSUMCHECK: "",
      GOPRIVATE: "",
      GONOPROXY: "",
      GOINSECURE: "",
      GOFLAGS: "",
      // Tailscale's go.mod may want a newer Go than the machine's; Go fetches that toolchain, verified the same way.
      GOTOOLCHAIN: "auto",
    },
  };
}

export async function goInstallTailscale(
  request: { go: string; version: string; destination: string; workDir: string; timeoutMs: number },
  env: Readonly<Record<string, string | undefined>>,
  runner: Runner,
  redactor: Redactor,
): Promise<{ tailscale: string; tailscaled: string }> {
  const spec = goInstallSpec(request.go, request.version, request.destination, request.workDir, env);
  expectSuccess(
    await runner.run({ ...spec, timeoutMs: request.timeoutMs }),
    redactor,
    "Go builds Tailscale from its module proxy; check the network, or install Tailscale and pass --tailscale-bin",
  );
  return { tailscale: `${request.destination}/tailscale`, tailscaled: `${request.destination}/tailscaled` };
}
