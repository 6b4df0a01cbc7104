import { STATE_FILES, type StateFile } from "../core/state_dir.ts";

/** The builder's protocol files: a new builder run starts with none of them. */
export const BUILDER_PROTOCOL_FILES: readonly StateFile[] = ["info", "claim", "lease", "done", "usage"];

const { info, claim, lease, done, usage } = STATE_FILES;

/**
 * The builder side of a claim, run over ssh as one fixed POSIX shell script: nothing user-controlled is spliced
 * into it. The coordinator sends two lines on stdin: the builder's state folder and the claim JSON.
 * It writes `claim` atomically, renews `lease` and prints `info.json`, in one round trip. The claim file's second
 * line is `client <address>`: the first word of $SSH_CLIENT, which sshd sets to the claiming peer's address, so
 * the builder can ask its own tailnet who that is before it takes the claim. Tailscale SSH's login shell clears
 * it: the line is then `client ` with nothing after it (see lib/builder/claim_gate.ts).
 */
export const CLAIM_SCRIPT = [
  "set -eu",
  "IFS= read -r dir",
  "IFS= read -r claim",
  'cd "$dir"',
  `test -f ${info} || { echo "dnb: no builder here: $dir/${info} is missing" >&2; exit 3; }`,
  "umask 022",
  "client=${SSH_CLIENT:-}",
  "client=${client%% *}",
  `printf "%s\\nclient %s\\n" "$claim" "$client" > ${claim}.tmp`,
  `mv -f ${claim}.tmp ${claim}`,
  `touch ${lease}`,
  `cat ${info}`,
].join("; ");

/** Prints the builder's own usage reading, when it has one (the coordinator validates it); never fails the script. */
const PRINT_USAGE = `cat ${usage} 2>/dev/null || true`;

/** A script that reads the builder's state folder from stdin, goes there, checks `file` (else exits `code`) and does `then`. */
function inStateDir(file: string, code: number, ...then: string[]): string {
  return ["set -eu", "IFS= read -r dir", 'cd "$dir"', `test -f ${file} || exit ${code}`, ...then].join("; ");
}

/**
 * The watchdog's heartbeat: renews `lease` of a claimed builder and prints its usage reading
 * (exit 4: the builder is not claimed).
 */
export const HEARTBEAT_SCRIPT = inStateDir(claim, 4, `touch ${lease}`, PRINT_USAGE);

/**
 * `dnb stop`'s word to a builder: finish and leave, and the final usage reading, in one round trip
 * (exit 3: no builder's state folder there). `done` comes first: the reading is a bonus, the release is not.
 */
export const DONE_SCRIPT = inStateDir(info, 3, `touch ${done}`, PRINT_USAGE);

/** ssh hands its command to the remote login shell as is, so a fixed script is the one remote argument. */
export function remoteArgv(sshConfigFile: string, alias: string, script: string): string[] {
  return ["ssh", "-F", sshConfigFile, alias, script];
}

export function claimArgv(sshConfigFile: string, alias: string): string[] {
  return remoteArgv(sshConfigFile, alias, CLAIM_SCRIPT);
}
