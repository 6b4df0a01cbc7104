/**
 * The zod schemas every input passes through at the edge: one line, bounded, no control
 * characters, and each kind of value held to the grammar of the file or argv it ends up in.
 */
import { z } from "zod";

export const MAX_LINE = 1024;
export const MAX_EXTRA_NIX_CONFIG = 4096;
/** Settings dnb owns in nix.conf; letting extra config set them would silently undo the farm. */
export const MANAGED_NIX_SETTINGS = new Set(["builders", "extra-builders"]);

// Finding control characters in input is the point of these two patterns.
// deno-lint-ignore no-control-regex
export const CONTROL_CHARS = /[\x00-\x1f\x7f]/;
/** Control characters other than the tab, newline and space that separate a list's names. */
// deno-lint-ignore no-control-regex
export const CONTROL_CHARS_BUT_SEPARATORS = /[\x00-\x08\x0b-\x1f\x7f]/;
export const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const DNS_LABEL_RULE = "must be a DNS label: letters, digits and hyphens, at most 63, no hyphen at either end";
export const TAG = /^tag:[A-Za-z][A-Za-z0-9-]*$/;
export const TAG_RULE =
  "must be tag:<name>, the name starting with a letter and holding only letters, digits and hyphens";

export const oneLine = (max = MAX_LINE) =>
  z.string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((value) => !CONTROL_CHARS.test(value), { error: "must be one line without control characters" })
    .refine((value) => value.length > 0, { error: "must not be empty" });

export const wholeNumber = (min: number, max: number, unit = "") =>
  oneLine(12)
    .regex(/^\d+$/, { error: `must be a whole number${unit} from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `must be a whole number${unit} from ${min} to ${max}` });

export const seconds = (min: number, max: number) => wholeNumber(min, max, " of seconds");

/** Paths land in ssh_config and machines-file fields, where a space or quote would split or end them. */
export const PATH_CHARS = /^[A-Za-z0-9._+@\/-]*$/;

export const absolutePath = oneLine(4096)
  .refine((path) => path.startsWith("/"), { error: "must be an absolute path" })
  .refine((path) => PATH_CHARS.test(path), { error: "must hold only letters, digits and . _ - + @ /" })
  .refine((path) => !path.split("/").includes(".."), { error: "must not contain '..'" });

export const userName = oneLine(32).regex(/^[a-z_][a-z0-9_-]*$/, {
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
  "login-server",
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
export const UP_FLAG = /^--([a-z][a-z0-9-]*)(=[A-Za-z0-9._:\/,@+%=-]*)?$/;

export const tailscaleUpArgs = oneLine()
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

export const uniqueList = (items: readonly string[]) => new Set(items).size === items.length;

export const tagList = oneLine()
  .transform((text) => text.split(",").map((tag) => tag.trim()))
  .pipe(
    z.array(z.string().regex(TAG, { error: `each tag ${TAG_RULE}` }))
      .refine(uniqueList, { error: "must not repeat a tag" }),
  );

export const hostnameList = z.string()
  .max(MAX_LINE * 16, { error: `must be at most ${MAX_LINE * 16} characters` })
  .refine((text) => !CONTROL_CHARS_BUT_SEPARATORS.test(text), { error: "must not contain control characters" })
  .transform((text) => text.split(/\s+/).filter((name) => name !== ""))
  .pipe(
    z.array(z.string().regex(DNS_LABEL, { error: `each name ${DNS_LABEL_RULE}` }))
      .min(1, { error: "must name at least one builder" })
      .max(256, { error: "must name at most 256 builders" })
      .refine(uniqueList, { error: "must not name a builder twice" }),
  );

export const NIX_SETTING_LINE = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=/;

export const extraNixConfig = z.string()
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

export const booleanText = z.string().toLowerCase().pipe(
  z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }),
).transform((text) => ["true", "1", "yes"].includes(text));

export const authKeyText = z.string()
  .max(MAX_LINE, { error: `must be at most ${MAX_LINE} characters` })
  .regex(/^(tskey-[A-Za-z0-9_-]+(\?[A-Za-z0-9_.:/?=&-]*)?|hskey-auth-[A-Za-z0-9_-]+)$/, {
    error: "must be a Tailscale auth key or OAuth client secret (tskey-…) or a Headscale pre-auth key (hskey-auth-…) " +
      "on one line",
  });

/** A control server's URL as `tailscale up --login-server` takes it: a scheme, a host and at most a port. */
export const loginServerUrl = oneLine(256).regex(/^https?:\/\/[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?\/?$/, {
  error: "must be a control server's URL: http(s)://host or http(s)://host:port, nothing after it",
});
