import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { type AuthKey, type FederatedIdentity, readAuthKey, readFederatedIdentity } from "./credentials.ts";
import { type ConfigSources, parseInput, rawInput, readOption } from "./inputs.ts";
import {
  absolutePath,
  booleanText,
  DNS_LABEL,
  DNS_LABEL_RULE,
  extraNixConfig,
  hostnameList,
  loginServerUrl,
  oneLine,
  seconds,
  TAG,
  TAG_RULE,
  tagList,
  tailscaleUpArgs,
  userName,
  wholeNumber,
} from "./schemas.ts";

export type Role = "builder" | "coordinator";
export type TailscaleMode = "auto" | "up" | "existing";
export type InstallNixMode = "auto" | "never";

/** The validated, frozen configuration of a `dnb --role …` run. */
export interface Config {
  readonly role: Role;
  readonly dryRun: boolean;
  readonly hostname: string;
  readonly tags: readonly string[];
  /** Builder hostnames to wait for; empty when builders are discovered by prefix. */
  readonly builders: readonly string[];
  readonly discoverPrefix?: string;
  readonly expect?: number;
  readonly builderTag: string;
  /** Builder: a claim is taken only from a node carrying this tag (checked with `tailscale whois`). */
  readonly coordinatorTag: string;
  readonly builderTimeoutSeconds: number;
  readonly leaseSeconds: number;
  readonly waitTimeoutSeconds: number;
  readonly joinTimeoutSeconds: number;
  readonly extraNixConfig: readonly string[];
  readonly sshUser: string;
  readonly sshKey?: string;
  readonly stateDir: string;
  /** Where builders keep their protocol files (their --state-dir). */
  readonly builderStateDir: string;
  readonly probeConcurrency: number;
  readonly tailscale: TailscaleMode;
  readonly tailscaleBin?: string;
  /** `tailscale up --accept-routes`, as the original action always did: caches behind subnet routers. */
  readonly acceptRoutes: boolean;
  /** A control server other than Tailscale's (Headscale): `tailscale up --login-server`. */
  readonly loginServer?: string;
  /** Extra `tailscale up` flags the user asked for, each `--name` or `--name=value`. */
  readonly tailscaleUpArgs: readonly string[];
  readonly installNix: InstallNixMode;
  readonly jobsPerCore: number;
  /** auto: one ssh connection per builder that Nix's sessions share, where this machine's Nix can. */
  readonly sshMaster: "auto" | "off";
  /** Builder: install a udev rule so Nix's build users can open /dev/kvm (GitHub's runners need it). */
  readonly enableKvm: boolean;
  readonly authKey?: AuthKey;
  /** Keyless join: Tailscale workload identity federation with the CI's OIDC token. */
  readonly federated?: FederatedIdentity;
  /** Go ahead at the wait timeout with at least this many builders (default: every wanted one). */
  readonly minBuilders: number;
  /** Without credentials, fail instead of leaving Nix to build locally. */
  readonly requireBuilders: boolean;
}

export const DEFAULT_BUILDER_TAG = "tag:nix-builder";
export const DEFAULT_COORDINATOR_TAG = "tag:nix-coordinator";
export const DEFAULT_STATE_DIR = "/tmp/dnb";
function githubRun(env: ConfigSources["env"]): { id: string; attempt: string } | undefined {
  const id = env.GITHUB_RUN_ID;
  if (env.GITHUB_ACTIONS !== "true" || id === undefined || !/^\d+$/.test(id)) return undefined;
  const attempt = env.GITHUB_RUN_ATTEMPT;
  return { id, attempt: attempt !== undefined && /^\d+$/.test(attempt) ? attempt : "1" };
}

/** The prefix builders of one workflow run share, so a coordinator finds them with no config job. */
export function githubBuilderPrefix(env: ConfigSources["env"]): string | undefined {
  const run = githubRun(env);
  return run && `nix-builder-${run.id}-${run.attempt}-`;
}

/** `linux-x64`, `darwin-arm64`: the names release assets and default hostnames use. */
export function platformName(platform: ConfigSources["platform"]): string {
  const arch = platform.arch === "x86_64" ? "x64" : platform.arch === "aarch64" ? "arm64" : platform.arch;
  return `${platform.os}-${arch}`;
}

function defaultHostname(role: Role, sources: ConfigSources): string {
  const run = githubRun(sources.env);
  const suffix = sources.randomSuffix();
  if (role === "builder") {
    const prefix = githubBuilderPrefix(sources.env) ?? "dnb-builder-";
    return `${prefix}${platformName(sources.platform)}-${suffix}`.slice(0, 63);
  }
  return (run ? `nix-coordinator-${run.id}-${run.attempt}` : `dnb-coordinator-${suffix}`).slice(0, 63);
}

/** How a coordinator finds its builders, and how many it needs; each combination checked. */
function readFinding(
  sources: ConfigSources,
  role: Role,
): Pick<Config, "builders" | "discoverPrefix" | "expect" | "minBuilders"> {
  const builderList = readOption(sources, "--builders", hostnameList);
  const prefixInput = readOption(
    sources,
    "--discover-prefix",
    oneLine(62).regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, {
      error: "must be the start of a DNS label: letters, digits and hyphens, not starting with a hyphen",
    }),
  );
  const expect = readOption(sources, "--expect", wholeNumber(1, 256));
  const discoverPrefix = prefixInput ?? (expect !== undefined ? githubBuilderPrefix(sources.env) : undefined);
  if (role === "coordinator") {
    if (builderList !== undefined && (prefixInput !== undefined || expect !== undefined)) {
      throw new InputError(
        "--builders",
        "cannot be combined with --discover-prefix/--expect: pick one way to find builders",
      );
    }
    if (builderList === undefined && expect === undefined) {
      throw new InputError(
        "--builders",
        "a coordinator needs --builders, or --expect with --discover-prefix (on GitHub the prefix defaults to nix-builder-<run id>-<attempt>-)",
      );
    }
    if (builderList === undefined && discoverPrefix === undefined) {
      throw new InputError("--discover-prefix", "is required with --expect outside GitHub Actions");
    }
  }
  const wantedCount = builderList?.length ?? expect ?? 1;
  const minInput = rawInput(sources, "--min-builders");
  const minBuilders = minInput && parseInput(minInput, wholeNumber(1, 256));
  if (role === "coordinator" && minBuilders !== undefined && minBuilders > wantedCount) {
    throw new InputError(minInput!.name, `is ${minBuilders}, more than the ${wantedCount} builder(s) wanted`);
  }
  return {
    builders: builderList ?? [],
    discoverPrefix: builderList === undefined ? discoverPrefix : undefined,
    expect: builderList === undefined ? expect : undefined,
    minBuilders: minBuilders ?? wantedCount,
  };
}

/** Validates every input once, at the edge; throws InputError (exit 2) naming the first bad one. */
export function loadConfig(sources: ConfigSources): Config {
  const roleInput = rawInput(sources, "--role");
  if (roleInput === undefined) {
    throw new InputError("--role", "is required: builder or coordinator (or run a command: stop, status, post)");
  }
  const role = parseInput(roleInput, z.enum(["builder", "coordinator"], { error: "must be builder or coordinator" }));
  const builderTimeoutSeconds = readOption(sources, "--builder-timeout", seconds(10, 21600)) ?? 300;
  const finding = readFinding(sources, role);
  const config: Config = {
    role,
    dryRun: readOption(sources, "--dry-run", booleanText) ?? false,
    hostname: readOption(sources, "--hostname", oneLine(63).regex(DNS_LABEL, { error: DNS_LABEL_RULE })) ??
      defaultHostname(role, sources),
    tags: readOption(sources, "--tags", tagList) ??
      [role === "builder" ? DEFAULT_BUILDER_TAG : DEFAULT_COORDINATOR_TAG],
    ...finding,
    builderTag: readOption(sources, "--builder-tag", oneLine().regex(TAG, { error: TAG_RULE })) ?? DEFAULT_BUILDER_TAG,
    coordinatorTag: readOption(sources, "--coordinator-tag", oneLine().regex(TAG, { error: TAG_RULE })) ??
      DEFAULT_COORDINATOR_TAG,
    builderTimeoutSeconds,
    leaseSeconds: readOption(sources, "--lease", seconds(5, 3600)) ?? 120,
    waitTimeoutSeconds: readOption(sources, "--wait-timeout", seconds(10, 21600)) ?? builderTimeoutSeconds + 60,
    joinTimeoutSeconds: readOption(sources, "--join-timeout", seconds(5, 3600)) ?? 120,
    extraNixConfig: readOption(sources, "--extra-nix-config", extraNixConfig) ?? [],
    sshUser: readOption(sources, "--ssh-user", userName) ?? "root",
    sshKey: readOption(sources, "--ssh-key", absolutePath),
    stateDir: readOption(sources, "--state-dir", absolutePath) ?? DEFAULT_STATE_DIR,
    builderStateDir: readOption(sources, "--builder-state-dir", absolutePath) ?? DEFAULT_STATE_DIR,
    probeConcurrency: readOption(sources, "--probe-concurrency", wholeNumber(1, 256)) ?? 16,
    tailscale: readOption(
      sources,
      "--tailscale",
      z.enum(["auto", "up", "existing"], {
        error: "must be auto, up or existing",
      }),
    ) ?? "auto",
    tailscaleBin: readOption(sources, "--tailscale-bin", absolutePath),
    acceptRoutes: readOption(sources, "--accept-routes", booleanText) ?? true,
    loginServer: readOption(sources, "--login-server", loginServerUrl),
    tailscaleUpArgs: readOption(sources, "--tailscale-up-args", tailscaleUpArgs) ?? [],
    installNix: readOption(sources, "--install-nix", z.enum(["auto", "never"], { error: "must be auto or never" })) ??
      "auto",
    jobsPerCore: readOption(sources, "--jobs-per-core", wholeNumber(1, 64)) ?? 2,
    sshMaster: readOption(sources, "--ssh-master", z.enum(["auto", "off"], { error: "must be auto or off" })) ??
      "auto",
    enableKvm: readOption(sources, "--enable-kvm", booleanText) ?? false,
    authKey: readAuthKey(sources),
    federated: readFederatedIdentity(sources),
    requireBuilders: readOption(sources, "--require-builders", booleanText) ?? false,
  };
  return Object.freeze(config);
}

/** Sources for a command that needs no file, randomness or platform: only flags and the environment. */
function flagsAndEnv(sources: Pick<ConfigSources, "flags" | "env">): ConfigSources {
  return { ...sources, readTextFile: () => "", randomSuffix: () => "", platform: { os: "", arch: "" } };
}

/** The state folder for `stop`, `status` and `post`, from `--state-dir` or its twin. */
export function loadStateDir(sources: Pick<ConfigSources, "flags" | "env">): string {
  return readOption(flagsAndEnv(sources), "--state-dir", absolutePath) ?? DEFAULT_STATE_DIR;
}

/** `dnb doctor`'s inputs: the state folder, and the ssh user to check in trusted-users when one is given. */
export function loadDoctorOptions(
  sources: Pick<ConfigSources, "flags" | "env">,
): { readonly stateDir: string; readonly sshUser?: string } {
  return { stateDir: loadStateDir(sources), sshUser: readOption(flagsAndEnv(sources), "--ssh-user", userName) };
}
