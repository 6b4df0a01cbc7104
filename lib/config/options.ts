/**
 * The options of `dnb --role …`, one table that the parser, the env twins and --help are made from.
 * Every option reads its environment twin `DNB_<NAME>`; a flag beats its twin, which beats the default.
 */
export interface OptionSpec {
  /** The flag as users type it. */
  readonly flag: `--${string}`;
  /** Placeholder for the value in --help; absent for an on/off switch. */
  readonly value?: string;
  readonly description: string;
}

export const ROLE_OPTIONS = [
  { flag: "--role", value: "<role>", description: "builder or coordinator" },
  { flag: "--hostname", value: "<name>", description: "this node's tailnet hostname (a DNS label)" },
  { flag: "--tags", value: "<tags>", description: "comma-separated tags to advertise, e.g. tag:nix-builder" },
  { flag: "--builders", value: "<names>", description: "coordinator: whitespace-separated builder hostnames" },
  {
    flag: "--discover-prefix",
    value: "<prefix>",
    description: "coordinator: take online builders whose name starts so",
  },
  { flag: "--expect", value: "<n>", description: "coordinator: how many builders to wait for with --discover-prefix" },
  { flag: "--min-builders", value: "<n>", description: "coordinator: at the wait timeout, go ahead with this many" },
  { flag: "--require-builders", description: "without credentials (fork pull requests), fail, not build locally" },
  { flag: "--builder-tag", value: "<tag>", description: "coordinator: tag a discovered builder must carry" },
  { flag: "--coordinator-tag", value: "<tag>", description: "builder: tag the claiming coordinator must carry" },
  { flag: "--builder-state-dir", value: "<path>", description: "coordinator: the builders' --state-dir" },
  { flag: "--probe-concurrency", value: "<n>", description: "coordinator: builders claimed at once" },
  { flag: "--builder-timeout", value: "<seconds>", description: "builder: exit when not claimed within this time" },
  { flag: "--lease", value: "<seconds>", description: "a claimed builder exits when not renewed for this long" },
  { flag: "--wait-timeout", value: "<seconds>", description: "coordinator: how long to wait for builders" },
  { flag: "--join-timeout", value: "<seconds>", description: "deadline for joining the tailnet" },
  { flag: "--extra-nix-config", value: "<lines>", description: "extra `name = value` lines for nix.conf" },
  { flag: "--ssh-user", value: "<user>", description: "user the coordinator's Nix connects to builders as" },
  { flag: "--ssh-key", value: "<path>", description: "private key for plain OpenSSH instead of Tailscale SSH" },
  { flag: "--state-dir", value: "<path>", description: "where dnb keeps its state" },
  { flag: "--tailscale", value: "<mode>", description: "auto, up or existing" },
  { flag: "--tailscale-bin", value: "<path>", description: "the tailscale CLI to use" },
  { flag: "--login-server", value: "<url>", description: "a control server of your own, e.g. Headscale" },
  { flag: "--accept-routes", value: "<true|false>", description: "accept subnet routes others advertise (true)" },
  { flag: "--tailscale-up-args", value: "<args>", description: "extra `tailscale up` flags: --name or --name=value" },
  { flag: "--install-nix", value: "<mode>", description: "auto or never" },
  { flag: "--jobs-per-core", value: "<n>", description: "coordinator: Nix jobs per builder core" },
  {
    flag: "--ssh-master",
    value: "<mode>",
    description: "coordinator: auto (one shared ssh connection per builder where this Nix can) or off",
  },
  {
    flag: "--enable-kvm",
    description: "builder: let Nix's build users open /dev/kvm (a udev rule, removed on exit)",
  },
  { flag: "--authkey-file", value: "<path>", description: "file holding the auth key (else TS_AUTHKEY)" },
  {
    flag: "--oauth-client-id",
    value: "<id>",
    description: "keyless join: Tailscale workload identity federation with the GitHub OIDC token",
  },
  { flag: "--audience", value: "<aud>", description: "audience of the OIDC token for --oauth-client-id" },
  { flag: "--dry-run", description: "print the plan and change nothing" },
] as const satisfies readonly OptionSpec[];

export const STATE_DIR_OPTION = ROLE_OPTIONS.find((option) => option.flag === "--state-dir")!;

export type RoleFlag = (typeof ROLE_OPTIONS)[number]["flag"];

/** `--builder-timeout` → `DNB_BUILDER_TIMEOUT`. */
export function envTwin(flag: string): string {
  return `DNB_${flag.slice(2).toUpperCase().replaceAll("-", "_")}`;
}

/** `--builder-timeout` → `builderTimeout`, the key commander stores the value under. */
export function attributeName(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Environment variables that may hold the auth key, in order of preference. */
export const AUTH_KEY_ENV = ["DNB_TAILSCALE_AUTHKEY", "TS_AUTHKEY"] as const;

/** The action's input for each option it passes, so errors name what the user wrote in the workflow. */
export const ACTION_INPUTS: Readonly<Partial<Record<string, string>>> = {
  "--role": "role",
  "--hostname": "tailscale_hostname",
  "--tags": "tailscale_tags",
  "--builders": "builders",
  "--builder-tag": "builder_tag",
  "--coordinator-tag": "coordinator_tag",
  "--discover-prefix": "discover_prefix",
  "--expect": "expect",
  "--builder-timeout": "builder_timeout",
  "--lease": "lease",
  "--ssh-user": "ssh_user",
  "--ssh-master": "ssh_master",
  "--extra-nix-config": "extra_nix_config",
  "--enable-kvm": "enable_kvm",
  "--dry-run": "dry_run",
  "--min-builders": "min_builders",
  "--require-builders": "require_builders",
  "--oauth-client-id": "oauth_client_id",
  "--audience": "audience",
  "--accept-routes": "accept_routes",
  "--tailscale-up-args": "tailscale_args",
  "--login-server": "login_server",
  TS_AUTHKEY: "tailscale_authkey",
};
