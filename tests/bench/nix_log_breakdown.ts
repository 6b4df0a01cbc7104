/**
 * Where each remote derivation's time goes, from Nix 2.8's `-vvv` log with a Unix timestamp before
 * every line, by the lines that name the derivation: `waiting for a machine to build 'D'` (the build
 * hook postponed it: every builder slot was busy; Nix tries again at its next poll), `building 'D' on
 * 'U'` (a hook accepted it, just after `connecting to 'U'` opened the ssh session and the remote
 * nix-daemon) and `builder process for 'D' finished` (inputs copied, built, outputs copied back, hook
 * gone). Hooks run side by side, so the connect time is the nearest `connecting to 'U'` before.
 */
export interface Breakdown {
  readonly derivations: number;
  /** Mean ms per derivation from its first postponement to its acceptance (0 when never postponed). */
  readonly postponedMs: number;
  /** Mean ms of the ssh session and remote daemon start before the acceptance. */
  readonly connectMs: number;
  /** Mean ms from acceptance to the hook's end: copy in, build, copy out. */
  readonly remoteMs: number;
  /** Times the hook answered `postpone`. */
  readonly postpones: number;
}

interface Line {
  readonly at: number;
  readonly text: string;
}

function lines(log: string): Line[] {
  return log.split("\n").flatMap((raw) => {
    const match = /^(\d+\.\d+) (.*)$/.exec(raw);
    return match ? [{ at: Number(match[1]) * 1000, text: match[2]! }] : [];
  });
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);

export function breakdown(log: string): Breakdown {
  const all = lines(log);
  const first = (text: string) => all.find((line) => line.text.includes(text));
  const lastBefore = (text: string, at: number) =>
    all.filter((line) => line.at <= at && line.text.includes(text)).pop();
  const phases = all.flatMap((line) => {
    const accepted = /^building '([^']+)' on '([^']+)'/.exec(line.text);
    if (!accepted) return [];
    const [, drv, uri] = accepted;
    const connecting = lastBefore(`connecting to '${uri}'`, line.at);
    const finished = first(`builder process for '${drv}' finished`);
    if (!connecting || !finished) return [];
    const postponed = first(`waiting for a machine to build '${drv}'`);
    return [{
      postponed: postponed ? line.at - postponed.at : 0,
      connect: line.at - connecting.at,
      remote: finished.at - line.at,
    }];
  });
  return {
    derivations: phases.length,
    postponedMs: mean(phases.map((phase) => phase.postponed)),
    connectMs: mean(phases.map((phase) => phase.connect)),
    remoteMs: mean(phases.map((phase) => phase.remote)),
    postpones: all.filter((line) => line.text.includes("hook reply is 'postpone'")).length,
  };
}
