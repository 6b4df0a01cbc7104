import { type Config, loadConfig } from "../config.ts";
import type { Context } from "../context.ts";
import { DnbError, EXIT_OK } from "../errors.ts";
import type { RoleFlag } from "../options.ts";
import { buildPlan } from "../plan.ts";
import { renderPlan } from "../plan_text.ts";
import { VERSION } from "../version.ts";

/** `dnb --role builder|coordinator [--dry-run]`. */
export function runRole(flags: Partial<Record<RoleFlag, string | boolean>>, ctx: Context): number {
  const config: Config = loadConfig({
    flags,
    env: ctx.env,
    readTextFile: ctx.readTextFile,
    randomSuffix: ctx.randomSuffix,
    platform: ctx.platform,
  });
  ctx.redactor.add(config.authKey?.value);
  if (!config.dryRun) {
    throw new DnbError(`the ${config.role} role does not run in dnb ${VERSION} yet`, {
      hint: "add --dry-run to see what it would do",
    });
  }
  ctx.out(ctx.redactor.redact(renderPlan(buildPlan(config, ctx.gatherFacts()), VERSION)));
  return EXIT_OK;
}
