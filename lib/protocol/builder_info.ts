import { z } from "zod";

/** CPU and kernel parts of the Nix system strings a builder can run (`x86_64-linux`, `armv7l-linux`). */
const CPUS = [
  "x86_64",
  // Nix's own extra platforms on x86_64 machines (micro-architecture levels).
  "x86_64-v1",
  "x86_64-v2",
  "x86_64-v3",
  "x86_64-v4",
  "i686",
  "aarch64",
  "armv5tel",
  "armv6l",
  "armv7l",
  "armv7a",
  "powerpc64",
  "powerpc64le",
  "riscv32",
  "riscv64",
  "mipsel",
  "mips64el",
  "s390x",
  "loongarch64",
  "m68k",
];
const KERNELS = ["linux", "darwin", "freebsd", "netbsd", "openbsd"];
const SYSTEM = new RegExp(`^(${CPUS.join("|")})-(${KERNELS.join("|")})$`);

/** What a builder publishes in `<state>/info.json` (design.md section 4); the coordinator trusts nothing else. */
export const builderInfoSchema = z.object({
  version: z.literal(1),
  hostname: z.string().regex(/^[A-Za-z0-9-]{1,63}$/),
  system: z.string().max(64).regex(SYSTEM, { error: "unknown system string" }),
  systems: z.array(z.string().max(64).regex(SYSTEM, { error: "unknown system string" })).min(1).max(16),
  features: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/)).max(64),
  cores: z.number().int().min(1, { error: "cores must be at least 1" }).max(4096),
  memoryBytes: z.number().int().nonnegative(),
  nixVersion: z.string().regex(/^[0-9][0-9A-Za-z.+_-]*$/),
  nixDaemon: z.string().regex(/^\/[^\s]*$/, { error: "nixDaemon must be an absolute path without spaces" }),
  os: z.string().max(32),
  arch: z.string().max(32),
  startedAt: z.string().max(40),
  /** Where builds' temporary folders go, and free space there and in /nix (absent: the builder did not say). */
  disk: z.object({
    buildDir: z.string().max(4096).regex(/^\/[^\s]*$/, { error: "buildDir must be an absolute path without spaces" }),
    buildDirFreeBytes: z.number().int().nonnegative().optional(),
    storeFreeBytes: z.number().int().nonnegative().optional(),
  }).optional(),
});

export type BuilderInfo = z.infer<typeof builderInfoSchema>;

/** Parses a builder's info.json; the message names what is wrong, for a line that names the builder. */
export function parseBuilderInfo(text: string): { info?: BuilderInfo; problem?: string } {
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
