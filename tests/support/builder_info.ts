import type { BuilderInfo } from "../../lib/protocol/builder_info.ts";

/** A valid info.json of an x86_64-linux builder; tests override what they are about. */
export function builderInfo(overrides: Partial<BuilderInfo> = {}): BuilderInfo {
  return {
    version: 1,
    hostname: "b1",
    system: "x86_64-linux",
    systems: ["x86_64-linux"],
    features: [],
    cores: 4,
    memoryBytes: 16e9,
    nixVersion: "2.24.9",
    nixDaemon: "/nix/var/nix/profiles/default/bin/nix-daemon",
    os: "linux",
    arch: "x86_64",
    startedAt: "2026-11-25T05:00:00.000Z",
    ...overrides,
  };
}
