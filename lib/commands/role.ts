import { type Config, loadConfig } from "../config.ts";
import type { Context } from "../context.ts";
import { runBuilder } from "../builder.ts";
import { runCoordinator } from "../coordinator.ts";
import { EXIT_OK } from "../errors.ts";
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
  ctx.redactor.add(config.authKey?.value);
  if (config.dryRun) {
    ctx.out(ctx.redactor.redact(renderPlan(buildPlan(config, ctx.gatherFacts()), VERSION)));
    return EXIT_OK;
  }
  return config.role === "builder" ? await runBuilder(config, ctx) : await runCoordinator(config, ctx);
}
