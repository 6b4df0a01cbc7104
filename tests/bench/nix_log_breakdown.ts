/**
 * Where each remote derivation's time goes, from Nix 2.8's `-vvv` log with a Unix timestamp before
 * every line. Per derivation, on its machine: `connecting to 'U'` (the build hook opens the ssh
 * session and the remote nix-daemon), `building 'D' on 'U'` (the hook accepted), `copying outputs
 * from 'U'` (inputs copied and the build done), `builder process for 'D' finished` (outputs copied
 * back and the hook gone). Slot idle time is what is left of every builder slot's wall time: Nix's
 * build hook postponing a derivation while all slots are busy, and its poll before trying again.
 */
export interface Breakdown {
  readonly derivations: number;
  /** Mean ms per derivation. */
  readonly connectMs: number;
  readonly copyInAndBuildMs: number;
  readonly copyOutMs: number;
  /** Mean ms per derivation that slots spent without one. */
  readonly idleMs: number;
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

export function breakdown(log: string, slots: number, wallSeconds: number): Breakdown {
  const all = lines(log);
  const last = (text: string, before: number) =>
    all.filter((line) => line.at <= before && line.text.includes(text)).pop();
  const first = (text: string, after: number) => all.find((line) => line.at >= after && line.text.includes(text));
  const phases = all.flatMap((line) => {
    const building = /^building '([^']+)' on '([^']+)'/.exec(line.text);
    if (!building) return [];
    const [, drv, uri] = building;
    const connecting = last(`connecting to '${uri}'`, line.at);
    const outputs = first(`copying outputs from '${uri}'`, line.at);
    const finished = first(`builder process for '${drv}' finished`, line.at);
    if (!connecting || !outputs || !finished) return [];
    return [{
      connect: line.at - connecting.at,
      copyInAndBuild: outputs.at - line.at,
      copyOut: finished.at - outputs.at,
      busy: finished.at - connecting.at,
    }];
  });
  const busy = phases.reduce((sum, phase) => sum + phase.busy, 0);
  return {
    derivations: phases.length,
    connectMs: mean(phases.map((phase) => phase.connect)),
    copyInAndBuildMs: mean(phases.map((phase) => phase.copyInAndBuild)),
    copyOutMs: mean(phases.map((phase) => phase.copyOut)),
    idleMs: phases.length === 0 ? 0 : Math.round(Math.max(0, slots * wallSeconds * 1000 - busy) / phases.length),
    postpones: all.filter((line) => line.text.includes("hook reply is 'postpone'")).length,
  };
}
