import { z } from "zod";

/**
 * What a builder saw of the builds it ran while claimed, as it writes it to `<state>/usage.json` and the
 * coordinator reads it over ssh. Times are the builder's own clock, so busy and claimed time compare fairly.
 */
export const builderUsageSchema = z.object({
  version: z.literal(1),
  claimedAt: z.iso.datetime(),
  at: z.iso.datetime(),
  derivations: z.number().int().nonnegative().max(10_000_000),
  busySeconds: z.number().nonnegative().max(10_000_000),
}).refine(
  // Busy time is made of intervals between samples taken while claimed, so it never exceeds the claimed time.
  (usage) => usage.busySeconds <= (Date.parse(usage.at) - Date.parse(usage.claimedAt)) / 1000 + 1,
  { error: "busySeconds exceeds the time since the claim" },
);

export type BuilderUsage = z.infer<typeof builderUsageSchema>;

/** A reading is a few hundred bytes; anything much larger is not one. */
const MAX_USAGE_BYTES = 4096;

/** Parses a builder's usage.json as printed by a heartbeat; undefined when there is none or it is not valid. */
export function parseUsage(text: string): BuilderUsage | undefined {
  if (text.trim() === "" || text.length > MAX_USAGE_BYTES) return undefined;
  try {
    const parsed = builderUsageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One look at the machine: derivation logs that appeared since the last look, and builds running now. */
export interface BuildSample {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly newLogs: number;
  readonly running: number;
}

/** The builder's running count, from the claim on. */
export interface UsageMeter {
  readonly claimedAt: number;
  readonly lastSampleAt: number;
  readonly derivations: number;
  readonly busyMs: number;
}

export function startMeter(claimedAt: number): UsageMeter {
  return { claimedAt, lastSampleAt: claimedAt, derivations: 0, busyMs: 0 };
}

/**
 * Adds one sample. The interval since the last sample counts as busy when a build runs now or a new
 * derivation log appeared during it (a build shorter than the interval leaves only its log behind).
 */
export function recordSample(meter: UsageMeter, sample: BuildSample): UsageMeter {
  const elapsed = Math.max(0, sample.at - meter.lastSampleAt);
  const busy = sample.running > 0 || sample.newLogs > 0;
  return {
    claimedAt: meter.claimedAt,
    lastSampleAt: Math.max(meter.lastSampleAt, sample.at),
    derivations: meter.derivations + sample.newLogs,
    busyMs: meter.busyMs + (busy ? elapsed : 0),
  };
}

export function usageOf(meter: UsageMeter): BuilderUsage {
  return {
    version: 1,
    claimedAt: new Date(meter.claimedAt).toISOString(),
    at: new Date(meter.lastSampleAt).toISOString(),
    derivations: meter.derivations,
    busySeconds: Math.round(meter.busyMs / 100) / 10,
  };
}
