/**
 * Rules the validators on npm cannot know, because GitHub changes under them: runner labels that
 * were retired, and actions pinned at a release whose runtime GitHub removed. Each pin carries the
 * release and the runtime its own action.yml declares at that SHA: `@<sha> # v7.0.1 (node24)`.
 */

/** Labels GitHub retired (actions/runner-images), with the month the last job ran. */
export const RETIRED_RUNNER_LABELS: Readonly<Record<string, string>> = {
  "ubuntu-18.04": "2023-04",
  "ubuntu-20.04": "2025-04",
  "windows-2016": "2022-03",
  "windows-2019": "2025-06",
  "macos-10.15": "2022-08",
  "macos-11": "2024-06",
  "macos-12": "2024-12",
  "macos-12-large": "2024-12",
  "macos-13": "2025-12",
  "macos-13-large": "2025-12",
  "macos-13-xlarge": "2025-12",
  "macos-14": "2026-11",
  "macos-14-large": "2026-11",
  "macos-14-xlarge": "2026-11",
};

/**
 * What the README and the example write for dnb's own action until you publish it: an underscore
 * is not allowed in GitHub account names, so it can never resolve to somebody else's repository.
 */
export const ACTION_PLACEHOLDER = "YOUR_ORG/dnb@v0";

/** Runtimes GitHub runs today; node20 and older were removed (forced onto node24, with a warning). */
const CURRENT_RUNTIMES = new Set(["node24", "composite", "docker"]);

export interface Finding {
  readonly line: number;
  readonly message: string;
}

/** The text of a YAML line without its comment (a `#` that starts the line or follows a space). */
function withoutComment(line: string): string {
  return line.replace(/(^|\s)#.*$/, "");
}

export function retiredRunnerLabels(text: string): Finding[] {
  return text.split("\n").flatMap((line, index) =>
    [...withoutComment(line).matchAll(/[\w.-]+/g)].flatMap(([word]) => {
      const retired = RETIRED_RUNNER_LABELS[word];
      return retired === undefined ? [] : [{
        line: index + 1,
        message: `runner label ${word} was retired in ${retired}; use a current one (macos-26-intel, macos-15-intel …)`,
      }];
    })
  );
}

/**
 * Every `uses:` of another repository's action must be pinned by a full commit SHA with the
 * release and its runtime beside it, and that runtime must be one GitHub still runs.
 * `placeholder` is the example's stand-in for dnb's own repository, which has no SHA to pin.
 */
export function stalePins(text: string, placeholder = ACTION_PLACEHOLDER): Finding[] {
  return text.split("\n").flatMap((line, index) => {
    const uses = /^\s*(?:- )?uses:\s*(\S+)(.*)$/.exec(line);
    if (!uses || uses[1]!.startsWith("./") || uses[1] === placeholder) return [];
    const [target, rest] = [uses[1]!, uses[2]!];
    const at = { line: index + 1 };
    if (!/@[0-9a-f]{40}$/.test(target)) return [{ ...at, message: `${target} is not pinned by a full commit SHA` }];
    const pin = /^\s+# (\S+) \(([\w-]+)\)/.exec(rest);
    if (!pin) {
      return [{
        ...at,
        message: `${target}: say the release and its runtime beside the pin, e.g. "# v7.0.1 (node24)"`,
      }];
    }
    if (!CURRENT_RUNTIMES.has(pin[2]!)) {
      return [{
        ...at,
        message: `${target} (${pin[1]}) declares ${pin[2]}, which GitHub no longer runs; pin a release that ` +
          `declares node24`,
      }];
    }
    return [];
  });
}
