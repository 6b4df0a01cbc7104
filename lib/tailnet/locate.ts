/**
 * Finds the tailscale CLI and daemon to use: the one given, one on PATH, or one dnb installs: the
 * pinned, sha256-checked tarball on Linux, the pinned Go module on macOS (Tailscale ships no
 * standalone macOS binaries).
 */
import { dirname } from "node:path";
import type { Config } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { say } from "../core/log.ts";
import { findOnPath } from "../core/path_lookup.ts";
import { statePath } from "../core/state_dir.ts";
import { envTwin } from "../config/options.ts";
import {
  goInstallTailscale,
  installTailscale,
  TAILSCALE_DOWNLOADS,
  TAILSCALE_SHA256,
  TAILSCALE_VERSION,
  tailscaleArch,
} from "./install.ts";

export interface TailscalePrograms {
  readonly tailscale: string;
  readonly tailscaled: string;
}

/** Where dnb installs (Linux) or builds (macOS) Tailscale's two programs. */
export function installedTailscale(stateDir: string): TailscalePrograms {
  const dir = statePath(stateDir, "tailscaleBin");
  return { tailscale: `${dir}/tailscale`, tailscaled: `${dir}/tailscaled` };
}

/**
 * Whether `bin`, read back from the state folder, is a tailscale dnb would pick itself: the one on
 * PATH, the one dnb installs, or the one DNB_TAILSCALE_BIN names. What `--tailscale-bin` gave a role
 * on its command line is not known later: `dnb post` then needs DNB_TAILSCALE_BIN.
 */
export function dnbWouldRunTailscale(ctx: Pick<Context, "files" | "env">, stateDir: string, bin: string): boolean {
  return [
    installedTailscale(stateDir).tailscale,
    findOnPath(ctx.files, "tailscale", ctx.env.PATH ?? ""),
    ctx.env[envTwin("--tailscale-bin")],
  ].includes(bin);
}

export async function locateTailscale(config: Config, ctx: Context): Promise<TailscalePrograms> {
  const path = ctx.env.PATH ?? "";
  if (config.tailscaleBin !== undefined) {
    const sibling = `${dirname(config.tailscaleBin)}/tailscaled`;
    return {
      tailscale: config.tailscaleBin,
      tailscaled: ctx.files.exists(sibling) ? sibling : findOnPath(ctx.files, "tailscaled", path) ?? sibling,
    };
  }
  const tailscale = findOnPath(ctx.files, "tailscale", path);
  const tailscaled = findOnPath(ctx.files, "tailscaled", path);
  if (tailscale !== undefined && (tailscaled !== undefined || config.tailscale === "existing")) {
    return { tailscale, tailscaled: tailscaled ?? "tailscaled" };
  }
  if (config.tailscale === "existing") {
    throw new DnbError("tailscale is not installed and --tailscale is existing", { hint: "install Tailscale first" });
  }
  if (ctx.platform.os === "darwin") {
    const go = findOnPath(ctx.files, "go", path);
    if (go === undefined) {
      throw new DnbError("Tailscale is not installed, and Go, which dnb builds it with on macOS, is missing", {
        hint: "GitHub's macOS runners have Go; elsewhere install Tailscale and pass --tailscale-bin, or install Go",
      });
    }
    say(ctx, `building tailscale ${TAILSCALE_VERSION} from its Go module (verified by Go's checksum database)`);
    return await goInstallTailscale(
      {
        go,
        version: TAILSCALE_VERSION,
        destination: statePath(config.stateDir, "tailscaleBin"),
        workDir: statePath(config.stateDir, "tailscaleBuild"),
        timeoutMs: 900_000,
      },
      ctx.env,
      ctx.runner,
      ctx.redactor,
    );
  }
  const arch = tailscaleArch(ctx.platform.arch);
  say(ctx, `installing tailscale ${TAILSCALE_VERSION} (${arch}, sha256 pinned)`);
  return await installTailscale(
    {
      baseUrl: TAILSCALE_DOWNLOADS,
      version: TAILSCALE_VERSION,
      arch,
      sha256: TAILSCALE_SHA256[arch]!,
      destination: statePath(config.stateDir, "tailscaleBin"),
      timeoutMs: 120_000,
    },
    ctx,
  );
}
