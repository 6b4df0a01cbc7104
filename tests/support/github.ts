/** What the GitHub Actions runner puts in a step's environment, for tests that play a step. */
export interface ActionsStep {
  /** $GITHUB_OUTPUT: the file step outputs are appended to. */
  readonly output?: string;
  /** $GITHUB_STEP_SUMMARY: the file the job summary's markdown is appended to. */
  readonly summary?: string;
  /** $GITHUB_PATH: the file folders for later steps' PATH are appended to. */
  readonly path?: string;
  /** $GITHUB_RUN_ID and $GITHUB_RUN_ATTEMPT. */
  readonly run?: { readonly id: string; readonly attempt: string };
}

/** GITHUB_ACTIONS=true, and the step's files and run as given: nothing the step does not name. */
export function actionsEnv(step: ActionsStep = {}): Record<string, string> {
  return {
    GITHUB_ACTIONS: "true",
    ...(step.run && { GITHUB_RUN_ID: step.run.id, GITHUB_RUN_ATTEMPT: step.run.attempt }),
    ...(step.output !== undefined && { GITHUB_OUTPUT: step.output }),
    ...(step.summary !== undefined && { GITHUB_STEP_SUMMARY: step.summary }),
    ...(step.path !== undefined && { GITHUB_PATH: step.path }),
  };
}

/** Where farm tests have a step write its outputs and summary: the host's own /tmp, read back below its folder. */
export const HOST_STEP_FILES = { output: "/tmp/gh-output", summary: "/tmp/gh-summary" } as const;
