/** A coordinator's farm settings as tests record them: today's defaults, with what a test is about overridden. */
import type { FarmSettings } from "../../lib/farm/cluster.ts";

export function farmSettings(overrides: Partial<FarmSettings> = {}): FarmSettings {
  return {
    hostname: "coord",
    stateDir: "/tmp/dnb",
    sshUser: "root",
    jobsPerCore: 2,
    leaseSeconds: 120,
    builderStateDir: "/tmp/dnb",
    extraNixConfig: [],
    probeConcurrency: 16,
    sshMaster: "auto",
    ...overrides,
  };
}
