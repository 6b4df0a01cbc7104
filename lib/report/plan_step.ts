/** A dry run's plan: steps with their notes, commands and files. */

export interface PlannedFile {
  readonly path: string;
  readonly mode: string;
  /** What happens to the file, e.g. "create", "replace dnb's block". */
  readonly change: string;
  readonly content: string;
}

export interface PlanStep {
  readonly title: string;
  readonly notes: readonly string[];
  readonly commands: readonly (readonly string[])[];
  readonly files: readonly PlannedFile[];
}

export interface Plan {
  readonly headline: string;
  readonly steps: readonly PlanStep[];
  /** What is missing on this machine and what dnb would do about it. */
  readonly missing: readonly string[];
}

export function step(title: string, parts: Partial<Omit<PlanStep, "title">>): PlanStep {
  return { title, notes: parts.notes ?? [], commands: parts.commands ?? [], files: parts.files ?? [] };
}

/** Shown where a secret would be. */
export const MASK = "***";
