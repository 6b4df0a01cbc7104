import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { ACTION_INPUTS, AUTH_KEY_ENV, envTwin, type RoleFlag } from "./options.ts";

export type Role = "builder" | "coordinator";
export type TailscaleMode = "auto" | "up" | "existing";
export type InstallNixMode = "auto" | "never";

export interface AuthKey {
  readonly value: string;
  /** OAuth client secrets mint a key at join time and need tags; plain auth keys carry their own. */
  readonly kind: "auth-key" | "oauth-client-secret";
  /** Where it came from, for messages: an env var name or `--authkey-file`. */
  readonly source: string;
}

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
  /** Extra `tailscale up` flags the user asked for, each `--name` or `--name=value`. */
  readonly tailscaleUpArgs: readonly string[];
  readonly installNix: InstallNixMode;
  readonly jobsPerCore: number;
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

export interface FederatedIdentity {
  /** The federated identity's client ID: not a secret (Tailscale's own action passes it on the command line). */
  readonly clientId: string;
  /** The audience the OIDC token is minted for, as Tailscale's admin console shows it. */
  readonly audience: string;
}

/** What the edge hands the loader: parsed flags, the environment, and the few facts defaults depend on. */
export interface ConfigSources {
  readonly flags: Readonly<Partial<Record<RoleFlag, string | boolean>>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => string;
  /** A few random characters that keep default hostnames from colliding. */
  readonly randomSuffix: () => string;
  readonly platform: { readonly os: string; readonly arch: string };
}

export const DEFAULT_BUILDER_TAG = "tag:nix-builder";
export const DEFAULT_COORDINATOR_TAG = "tag:nix-coordinator";
export const DEFAULT_STATE_DIR = "/tmp/dnb";
const MAX_LINE = 1024;
const MAX_EXTRA_NIX_CONFIG = 4096;
/** Settings dnb owns in nix.conf; letting extra config set them would silently undo the farm. */
const MANAGED_NIX_SETTINGS = new Set(["builders", "extra-builders"]);

// Finding control characters in input is the point of these two patterns.
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;
/** Control characters other than the tab, newline and space that separate a list's names. */
// deno-lint-ignore no-control-regex
const CONTROL_CHARS_BUT_SEPARATORS = /[\x00-\x08\x0b-\x1f\x7f]/;
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL_RULE = "must be a DNS label: letters, digits and hyphens, at most 63, no hyphen at either end";
const TAG = /^tag:[A-Za-z][A-Za-z0-9-]*$/;
const TAG_RULE = "must be tag:<name>, the name starting with a letter and holding only letters, digits and hyphens";

const oneLine = (max = MAX_LINE) =>
  z.string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((value) => !CONTROL_CHARS.test(value), { error: "must be one line without control characters" })
    .refine((value) => value.length > 0, { error: "must not be empty" });

const wholeNumber = (min: number, max: number, unit = "") =>
  oneLine(12)
    .regex(/^\d+$/, { error: `must be a whole number${unit} from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `must be a whole number${unit} from ${min} to ${max}` });

const seconds = (min: number, max: number) => wholeNumber(min, max, " of seconds");

/** Paths land in ssh_config and machines-file fields, where a space or quote would split or end them. */
const PATH_CHARS = /^[A-Za-z0-9._+@\/-]*$/;

const absolutePath = oneLine(4096)
  .refine((path) => path.startsWith("/"), { error: "must be an absolute path" })
  .refine((path) => PATH_CHARS.test(path), { error: "must hold only letters, digits and . _ - + @ /" })
  .refine((path) => !path.split("/").includes(".."), { error: "must not contain '..'" });

const userName = oneLine(32).regex(/^[a-z_][a-z0-9_-]*$/, {
  error: "must be a user name: lower-case letters, digits, '_' and '-', starting with a letter or '_'",
});

/**
 * `tailscale up` flags dnb sets itself: given again they would fight dnb's own, undo the farm's
 * safety (tailnet DNS, the deadline) or put a secret on the command line.
 */
export const TAILSCALE_UP_FLAGS_OF_DNB = [
  "accept-dns",
  "accept-routes",
  "advertise-tags",
  "audience",
  "auth-key",
  "authkey",
  "client-id",
  "client-secret",
  "force-reauth",
  "hostname",
  "id-token",
  "json",
  "qr",
  "reset",
  "socket",
  "ssh",
  "timeout",
];
const UP_FLAG = /^--([a-z][a-z0-9-]*)(=[A-Za-z0-9._:\/,@+%=-]*)?$/;

const tailscaleUpArgs = oneLine()
  .transform((text) => text.split(/\s+/).filter((arg) => arg !== ""))
  .pipe(
    z.array(
      z.string().regex(UP_FLAG, {
        error: "each argument must be --name or --name=value (value: letters, digits and . _ : / , @ + % = -)",
      }),
    )
      .max(32, { error: "must hold at most 32 arguments" })
      .refine((args) => !args.some((arg) => TAILSCALE_UP_FLAGS_OF_DNB.includes(UP_FLAG.exec(arg)?.[1] ?? "")), {
        error: `must not set a flag dnb sets itself (${TAILSCALE_UP_FLAGS_OF_DNB.map((f) => `--${f}`).join(", ")})`,
      }),
  );

const uniqueList = (items: readonly string[]) => new Set(items).size === items.length;

const tagList = oneLine()
  .transform((text) => text.split(",").map((tag) => tag.trim()))
  .pipe(
    z.array(z.string().regex(TAG, { error: `each tag ${TAG_RULE}` }))
      .refine(uniqueList, { error: "must not repeat a tag" }),
  );

const hostnameList = z.string()
  .max(MAX_LINE * 16, { error: `must be at most ${MAX_LINE * 16} characters` })
  .refine((text) => !CONTROL_CHARS_BUT_SEPARATORS.test(text), { error: "must not contain control characters" })
  .transform((text) => text.split(/\s+/).filter((name) => name !== ""))
  .pipe(
    z.array(z.string().regex(DNS_LABEL, { error: `each name ${DNS_LABEL_RULE}` }))
      .min(1, { error: "must name at least one builder" })
      .max(256, { error: "must name at most 256 builders" })
      .refine(uniqueList, { error: "must not name a builder twice" }),
  );

const NIX_SETTING_LINE = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=/;

const extraNixConfig = z.string()
  .max(MAX_EXTRA_NIX_CONFIG, { error: `must be at most ${MAX_EXTRA_NIX_CONFIG} characters` })
  .transform((text) => text.split("\n").map((line) => line.trimEnd()).filter((line) => line.trim() !== ""))
  .refine((lines) => lines.every((line) => !CONTROL_CHARS.test(line)), {
    error: "must not contain control characters",
  })
  .refine((lines) => lines.every((line) => NIX_SETTING_LINE.test(line)), {
    error: "must hold only `name = value` lines",
  })
  .refine((lines) => lines.every((line) => !MANAGED_NIX_SETTINGS.has(NIX_SETTING_LINE.exec(line)?.[1] ?? "")), {
    error: "must not set `builders`: dnb writes it (builders = @/etc/nix/machines)",
  });

const booleanText = z.string().toLowerCase().pipe(
  z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }),
).transform((text) => ["true", "1", "yes"].includes(text));

const authKeyText = z.string()
  .max(MAX_LINE, { error: `must be at most ${MAX_LINE} characters` })
  .regex(/^tskey-[A-Za-z0-9_-]+(\?[A-Za-z0-9_.:/?=&-]*)?$/, {
    error: "must be a Tailscale auth key or OAuth client secret (tskey-…) on one line",
  });

/** One input as the user gave it, and the name to blame in a message. */
interface RawInput {
  readonly value: string | boolean;
  readonly name: string;
}

function rawInput(sources: ConfigSources, flag: RoleFlag): RawInput | undefined {
  const fromFlag = sources.flags[flag];
  if (fromFlag !== undefined) return { value: fromFlag, name: flag };
  const twin = envTwin(flag);
  const fromEnv = sources.env[twin];
  // The action passes unset inputs as empty variables; an empty twin means "not given".
  if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, name: envName(sources, twin, flag) };
  return undefined;
}

/** An env twin as the user knows it: under the action, the input they wrote in the workflow. */
function envName(sources: ConfigSources, variable: string, key: string): string {
  const input = sources.env.DNB_FROM_ACTION === "true" ? ACTION_INPUTS[key] : undefined;
  return input === undefined ? variable : `input ${input} (${variable})`;
}

/** A short, escaped rendering of a bad value for a one-line message. */
function quoteValue(value: string | boolean): string {
  const text = String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function parseInput<T>(input: RawInput, schema: z.ZodType<T>, showValue = true): T {
  const result = schema.safeParse(typeof input.value === "boolean" ? String(input.value) : input.value);
  if (result.success) return result.data;
  const problem = result.error.issues[0]?.message ?? "is not valid";
  throw new InputError(showValue ? `${input.name} ${quoteValue(input.value)}` : input.name, problem);
}

function readOption<T>(sources: ConfigSources, flag: RoleFlag, schema: z.ZodType<T>): T | undefined {
  const input = rawInput(sources, flag);
  return input === undefined ? undefined : parseInput(input, schema);
}

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

function readAuthKey(sources: ConfigSources): AuthKey | undefined {
  const keyFile = readOption(sources, "--authkey-file", absolutePath);
  let input: RawInput | undefined;
  if (keyFile !== undefined) {
    let text: string;
    try {
      text = sources.readTextFile(keyFile);
    } catch (error) {
      throw new InputError("--authkey-file", `cannot read ${keyFile}: ${(error as Error).message}`);
    }
    const key = text.trim();
    if (key === "") throw new InputError("--authkey-file", `${keyFile} is empty`);
    input = { value: key, name: "--authkey-file" };
  } else {
    const name = AUTH_KEY_ENV.find((variable) => (sources.env[variable] ?? "") !== "");
    if (name !== undefined) input = { value: sources.env[name]!.trim(), name: envName(sources, name, name) };
  }
  if (input === undefined) return undefined;
  // Never echo a secret back, not even a malformed one.
  const value = parseInput(input, authKeyText, false);
  return {
    value,
    kind: value.startsWith("tskey-client-") ? "oauth-client-secret" : "auth-key",
    source: input.name,
  };
}

function readFederatedIdentity(sources: ConfigSources): FederatedIdentity | undefined {
  const clientId = readOption(
    sources,
    "--oauth-client-id",
    oneLine(128).regex(/^[A-Za-z0-9_-]+$/, { error: "must be a client ID: letters, digits, '_' and '-'" }),
  );
  const audience = readOption(
    sources,
    "--audience",
    oneLine(256).regex(/^[A-Za-z0-9_.:/-]+$/, { error: "must be an audience: letters, digits and . _ : / -" }),
  );
  if (clientId === undefined) {
    if (audience !== undefined) throw new InputError("--audience", "needs --oauth-client-id");
    return undefined;
  }
  if (audience === undefined) {
    throw new InputError("--audience", "is required with --oauth-client-id (the federated identity's audience)");
  }
  return { clientId, audience };
}

/** Validates every input once, at the edge; throws InputError (exit 2) naming the first bad one. */
export function loadConfig(sources: ConfigSources): Config {
  const roleInput = rawInput(sources, "--role");
  if (roleInput === undefined) {
    throw new InputError("--role", "is required: builder or coordinator (or run a command: stop, status, post)");
  }
  const role = parseInput(roleInput, z.enum(["builder", "coordinator"], { error: "must be builder or coordinator" }));

  const builderTimeoutSeconds = readOption(sources, "--builder-timeout", seconds(10, 21600)) ?? 300;
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

  const config: Config = {
    role,
    dryRun: readOption(sources, "--dry-run", booleanText) ?? false,
    hostname: readOption(sources, "--hostname", oneLine(63).regex(DNS_LABEL, { error: DNS_LABEL_RULE })) ??
      defaultHostname(role, sources),
    tags: readOption(sources, "--tags", tagList) ??
      [role === "builder" ? DEFAULT_BUILDER_TAG : DEFAULT_COORDINATOR_TAG],
    builders: builderList ?? [],
    discoverPrefix: builderList === undefined ? discoverPrefix : undefined,
    expect: builderList === undefined ? expect : undefined,
    builderTag: readOption(sources, "--builder-tag", oneLine().regex(TAG, { error: TAG_RULE })) ?? DEFAULT_BUILDER_TAG,
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
    tailscaleUpArgs: readOption(sources, "--tailscale-up-args", tailscaleUpArgs) ?? [],
    installNix: readOption(sources, "--install-nix", z.enum(["auto", "never"], { error: "must be auto or never" })) ??
      "auto",
    jobsPerCore: readOption(sources, "--jobs-per-core", wholeNumber(1, 64)) ?? 2,
    enableKvm: readOption(sources, "--enable-kvm", booleanText) ?? false,
    authKey: readAuthKey(sources),
    federated: readFederatedIdentity(sources),
    minBuilders: minBuilders ?? wantedCount,
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
