/** Exit codes of the CLI contract (design.md section 2). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The one error type dnb throws on purpose: a message, an exit code and a hint on what to check. */
export class DnbError extends Error {
  readonly exitCode: number;
  readonly hint?: string;

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "DnbError";
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
    this.hint = options.hint;
  }
}

/** Invalid input or usage: exits 2 and names the input as the user wrote it. */
export class InputError extends DnbError {
  constructor(input: string, problem: string) {
    super(`${input}: ${problem}`, { exitCode: EXIT_USAGE });
    this.name = "InputError";
  }
}
