import { type Config, loadConfig } from "../config.ts";
import type { Context } from "../context.ts";
import { runBuilder } from "../builder.ts";
import { runCoordinator } from "../coordinator.ts";
import { EXIT_OK } from "../errors.ts";
import { maskInLogs } from "../actions.ts";
import { authKeyForUp } from "../tailscale_args.ts";
import type { RoleFlag } from "../options.ts";
import { buildPlan } from "../plan.ts";
import { renderPlan } from "../plan_text.ts";
import { VERSION } from "../version.ts";

/** `dnb --role builder|coordinator [--dry-run]`. */
export async function runRole(flags: Partial<Record<RoleFlag, string | boolean>>, ctx: Context): Promise<number> {
  const config: Config = loadConfig({
    flags,
    env: ctx.env,
    readTextFile: ctx.readTextFile,
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
