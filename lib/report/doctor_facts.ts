/** What `dnb doctor` learns about this machine, and what each of its checks concludes. */
import type { NixConfInclude } from "../nix/conf.ts";
import type { TailnetNode } from "../tailnet/status.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about a warn or a fail. */
  readonly fix?: string;
  /** How to check by hand what doctor cannot (a skip). */
  readonly verify?: string;
}

export type Privilege = "root" | "passwordless-sudo" | "none";

export interface NixFacts {
  /** nix on PATH; undefined when it is not installed. */
  readonly path?: string;
  readonly version?: string;
  /** Why `nix --version` gave no version. */
  readonly versionProblem?: string;
  /** none: no socket (single-user Nix); silent: a socket nobody answers on. */
  readonly daemon: { readonly state: "none" | "answers" } | { readonly state: "silent"; readonly problem: string };
}

export interface NixConfFacts {
  readonly nixConf?: string;
  readonly nixCustomConf?: string;
  readonly includes: readonly (NixConfInclude & { readonly exists: boolean })[];
}

export interface TrustFacts {
  /** Nix's effective `trusted-users`; undefined with the reason when Nix could not print it. */
  readonly trustedUsers?: readonly string[];
  readonly problem?: string;
  /** root, and the --ssh-user when one was given, with their groups (for `@group` entries). */
  readonly users: readonly { readonly name: string; readonly groups: readonly string[] }[];
}

export type KvmFacts =
  | { readonly exists: false }
  | {
    readonly exists: true;
    /** Why opening it read-write as this user failed; undefined when it opened. */
    readonly openProblem?: string;
    /** Permission bits; undefined when stat failed. */
    readonly mode?: number;
  };

export interface DiskFacts {
  /** The folder `df` was asked about: /nix, or / when /nix does not exist yet. */
  readonly path: string;
  readonly availableBytes?: number;
  readonly problem?: string;
}

export type TailnetAnswer =
  | { readonly kind: "not-installed" }
  | { readonly kind: "no-answer"; readonly problem: string }
  | { readonly kind: "status"; readonly backendState: string; readonly self?: TailnetNode };

export interface TailscaleFacts {
  /** The node dnb's own session in the state folder points at, else the system tailscaled. */
  readonly via: { readonly kind: "dnb"; readonly stateDir: string; readonly socket?: string } | {
    readonly kind: "system";
  };
  readonly answer: TailnetAnswer;
  /** Where dnb would take an auth key from (a variable's name), never the key; undefined when none is set. */
  readonly authKeySource?: string;
}

export interface DoctorFacts {
  readonly os: string;
  /** Determinate Nix's launchd job is installed: the daemon restarts under its name. */
  readonly determinateLaunchd: boolean;
  readonly privilege: Privilege;
  readonly nix: NixFacts;
  readonly nixConf: NixConfFacts;
  readonly trust: TrustFacts;
  readonly kvm: KvmFacts;
  readonly disk: DiskFacts;
  readonly tailscale: TailscaleFacts;
}
