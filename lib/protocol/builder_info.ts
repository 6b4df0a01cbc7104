import { z } from "zod";
import { DNS_LABEL, FEATURE, PLATFORM_WORD, REMOTE_PATH, SYSTEM, VERSION } from "./grammar.ts";

const PATH_RULE = "must be an absolute path of letters, digits and . _ + / -";
const remotePath = (name: string) => z.string().max(4096).regex(REMOTE_PATH, { error: `${name} ${PATH_RULE}` });
const system = z.string().max(64).regex(SYSTEM, { error: "unknown system string" });

/**
 * What a builder publishes in `<state>/info.json` (design.md section 4); the coordinator trusts nothing else.
 * Every string is held to the grammar of the file it ends up in (grammar.ts): the machines file, ssh config,
 * nix.conf, the step summary and the outputs.
 */
export const builderInfoSchema = z.object({
  version: z.literal(1),
  hostname: z.string().regex(DNS_LABEL, { error: "hostname must be a DNS label" }),
  system,
  systems: z.array(system).min(1).max(16),
  features: z.array(z.string().regex(FEATURE, { error: "a feature is a word of a-z, 0-9 and -" })).max(64),
  cores: z.number().int().min(1, { error: "cores must be at least 1" }).max(4096),
  memoryBytes: z.number().int().nonnegative(),
  nixVersion: z.string().regex(VERSION, { error: "nixVersion must be a version string" }),
  nixDaemon: remotePath("nixDaemon"),
  os: z.string().regex(PLATFORM_WORD),
  arch: z.string().regex(PLATFORM_WORD),
  startedAt: z.iso.datetime(),
  /** Where builds' temporary folders go, and free space there and in /nix (absent: the builder did not say). */
  disk: z.object({
    buildDir: remotePath("buildDir"),
    buildDirFreeBytes: z.number().int().nonnegative().optional(),
    storeFreeBytes: z.number().int().nonnegative().optional(),
  }).optional(),
});

export type BuilderInfo = z.infer<typeof builderInfoSchema>;

/** An info.json is a few hundred bytes; anything much larger is not one, and is not parsed. */
export const MAX_INFO_BYTES = 64 * 1024;

/** Parses a builder's info.json; the message names what is wrong, for a line that names the builder. */
export function parseBuilderInfo(text: string): { info?: BuilderInfo; problem?: string } {
  if (text.length > MAX_INFO_BYTES) return { problem: `info.json is larger than ${MAX_INFO_BYTES} bytes` };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { problem: "info.json is not JSON" };
  }
  const parsed = builderInfoSchema.safeParse(data);
  if (parsed.success) return { info: parsed.data };
  const issue = parsed.error.issues[0];
  return { problem: `info.json: ${issue?.path.join(".") || "top level"}: ${issue?.message}` };
}
