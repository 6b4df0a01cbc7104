/**
 * The Nix daemon (worker) protocol each Nix release speaks, to warn when a builder and the
 * coordinator differ. Client and daemon agree on the lower of their versions, which works in
 * principle; mixed versions have still broken remote builds (NixOS/nix#4664, #9831).
 *
 * Source: `PROTOCOL_VERSION` in src/libstore/worker-protocol.hh (from 2.28
 * src/libstore/include/nix/store/worker-protocol.hh) at each release tag of NixOS/nix; from 2.34
 * `WorkerProto::latest` in src/libstore/worker-protocol.cc, which stays 1.38 and adds named
 * protocol features that both sides negotiate. Releases after the last row are "unknown" until
 * this table is checked against them (Lix numbers its releases 2.90 and up: unknown too).
 */
const PROTOCOL_BY_RELEASE: readonly (readonly [minor: number, protocol: string])[] = [
  [0, "1.20"],
  [1, "1.21"],
  [4, "1.32"],
  [7, "1.33"],
  [8, "1.34"],
  [15, "1.35"],
  [20, "1.37"],
  [24, "1.38"],
];
/** The newest 2.x release the table was checked against. */
const CHECKED_UNTIL_MINOR = 35;

/** `2.24.9` → `{major: 2, minor: 24}`; undefined for anything else. */
export function nixRelease(version: string): { major: number; minor: number } | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** The daemon protocol of a Nix version (`2.8.0` → `1.34`), or undefined when not known. */
export function daemonProtocol(nixVersion: string): string | undefined {
  const release = nixRelease(nixVersion);
  if (release === undefined || release.major !== 2 || release.minor > CHECKED_UNTIL_MINOR) return undefined;
  return PROTOCOL_BY_RELEASE.findLast(([minor]) => minor <= release.minor)?.[1];
}

/** A warning when a builder's Nix speaks another daemon protocol than the coordinator's, else undefined. */
export function protocolMismatch(builder: string, builderNix: string, coordinatorNix: string): string | undefined {
  const theirs = daemonProtocol(builderNix);
  const ours = daemonProtocol(coordinatorNix);
  if (theirs === undefined || ours === undefined || theirs === ours) return undefined;
  const lower = [theirs, ours].sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))[0];
  return `${builder} runs Nix ${builderNix} (daemon protocol ${theirs}) and this coordinator Nix ${coordinatorNix} ` +
    `(${ours}): they will speak ${lower}; mixed versions have broken remote builds before ` +
    `(NixOS/nix#4664, #9831), so if builds fail there, install the same Nix on both`;
}
