/**
 * Polls `check` every `intervalMs` (100 ms unless told) until it holds; returns the seconds it took, or
 * throws after `timeoutMs` naming `what` (a function is asked only then, e.g. for a log as it is at the end).
 * The one polling loop of the tests: none writes its own.
 */
export async function eventually(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(`${typeof what === "string" ? what : what()}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return (performance.now() - started) / 1000;
}
