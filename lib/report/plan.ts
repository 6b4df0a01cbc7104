/** The dry run's plan: every step of a run as argv and file contents, and what this machine lacks. */
import type { Config } from "../config/config.ts";
import type { MachineFacts, Program } from "../core/facts.ts";
import { builderSteps } from "./plan_builder.ts";
import { coordinatorSteps } from "./plan_coordinator.ts";
import { joinStep } from "./plan_join.ts";
import { type Plan, step } from "./plan_step.ts";

function missingPrograms(config: Config, facts: MachineFacts): string[] {
  const missing: string[] = [];
  if (facts.programs.nix === undefined) {
    missing.push(
      config.installNix === "auto"
        ? "nix: not found; dnb would install Nix (--install-nix auto)"
        : "nix: not found and --install-nix is never: the run would stop here",
    );
  }
  if (config.tailscaleBin === undefined && facts.programs.tailscale === undefined) {
    missing.push(
      config.tailscale === "existing"
        ? "tailscale: not found and --tailscale is existing: the run would stop here"
        : "tailscale: not found; dnb would install a pinned, checksum-verified Tailscale",
    );
  }
  if (config.role === "coordinator" && facts.programs.ssh === undefined) {
    missing.push("ssh: not found; install OpenSSH's client (the Nix daemon reaches builders with it)");
  }
  return missing;
}

function programsNeeded(role: Config["role"]): Program[] {
  return role === "coordinator" ? ["nix", "tailscale", "ssh"] : ["nix", "tailscale"];
}

/** The whole run as steps: commands as argv, files with their new content; secrets appear only as ***. */
export function buildPlan(config: Config, facts: MachineFacts): Plan {
  const missing = missingPrograms(config, facts);
  const preflight = step("Check this machine", {
    notes: [
      `${facts.os}/${facts.arch}; state in ${config.stateDir} (0755, refused if another user owns it or others can write it)`,
      ...programsNeeded(config.role).map((program) => `${program}: ${facts.programs[program] ?? "not found"}`),
    ],
  });
  const roleSteps = config.role === "builder" ? builderSteps(config, facts) : coordinatorSteps(config, facts);
  return {
    headline: `plan for ${config.role} ${config.hostname} with tags ${config.tags.join(",")}`,
    steps: [preflight, joinStep(config, facts), ...roleSteps],
    missing,
  };
}
