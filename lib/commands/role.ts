import { type Config, loadConfig } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { runBuilder } from "./builder.ts";
import { runCoordinator } from "./coordinator.ts";
import { EXIT_OK } from "../core/errors.ts";
import { maskInLogs } from "../core/actions.ts";
import { authKeyForUp } from "../tailnet/args.ts";
import type { RoleFlag } from "../config/options.ts";
import { buildPlan } from "../report/plan.ts";
import { renderPlan } from "../report/plan_text.ts";
import { VERSION } from "../core/version.ts";

/** `dnb --role builder|coordinator [--dry-run]`. */
export async function runRole(flags: Partial<Record<RoleFlag, string | boolean>>, ctx: Context): Promise<number> {
  const config: Config = loadConfig({
    flags,
    env: ctx.env,
    readTextFile: (path) => ctx.files.readInput(path),
    randomSuffix: ctx.randomSuffix,
    platform: ctx.platform,
  });
  if (config.authKey !== undefined) {
    // The key and the form `tailscale up` gets (OAuth attributes added) are both secrets.
    for (const secret of [config.authKey.value, authKeyForUp(config.authKey)]) {
      ctx.redactor.add(secret);
      maskInLogs(ctx, secret);
    }
  }
  if (config.dryRun) {
    ctx.out(ctx.redactor.redact(renderPlan(buildPlan(config, ctx.gatherFacts()), VERSION)));
    return EXIT_OK;
  }
  return config.role === "builder" ? await runBuilder(config, ctx) : await runCoordinator(config, ctx);
}
