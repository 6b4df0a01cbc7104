/**
 * The builder side of a claim, run over ssh as one fixed POSIX shell script: nothing user-controlled is spliced
 * into it. The coordinator sends two lines on stdin: the builder's state folder and the claim JSON.
 * It writes `claim` atomically, renews `lease` and prints `info.json`, in one round trip.
 */
export const CLAIM_SCRIPT = [
  "set -eu",
  "IFS= read -r dir",
  "IFS= read -r claim",
  'cd "$dir"',
  'test -f info.json || { echo "dnb: no builder here: $dir/info.json is missing" >&2; exit 3; }',
  "umask 022",
  'printf "%s\\n" "$claim" > claim.tmp',
  "mv -f claim.tmp claim",
  "touch lease",
  "cat info.json",
].join("; ");

/** ssh hands its command to the remote login shell as is, so the fixed script is the one remote argument. */
export function claimArgv(sshConfigFile: string, alias: string): string[] {
  return ["ssh", "-F", sshConfigFile, alias, CLAIM_SCRIPT];
}
