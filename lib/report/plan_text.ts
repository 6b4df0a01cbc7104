import { displayArgv } from "../core/exec.ts";
import type { Plan } from "./plan_step.ts";

/** The plan as --dry-run prints it: numbered steps, `$ argv` for commands, each file's content indented. */
export function renderPlan(plan: Plan, version: string): string {
  const lines = [`dnb ${version}: ${plan.headline}`, "dry run: nothing on this machine was changed", ""];
  plan.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${step.title}`);
    for (const note of step.notes) lines.push(`   - ${note}`);
    for (const argv of step.commands) lines.push(`   $ ${displayArgv(argv)}`);
    for (const file of step.files) {
      lines.push(`   file ${file.path} (${file.mode}; ${file.change}):`);
      for (const line of file.content.replace(/\n$/, "").split("\n")) lines.push(`   | ${line}`);
    }
    lines.push("");
  });
  lines.push(plan.missing.length === 0 ? "Nothing is missing on this machine." : "Missing on this machine:");
  for (const item of plan.missing) lines.push(`   - ${item}`);
  return lines.join("\n") + "\n";
}
