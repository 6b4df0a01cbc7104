import type { Config } from "../config/config.ts";
import type { Wanted } from "../tailnet/discovery.ts";
import type { Files } from "../core/files.ts";
import type { BuilderInfo } from "../protocol/builder_info.ts";
import type { BuilderUsage } from "../protocol/usage.ts";
import { statePath } from "../core/state_dir.ts";

/** A claimed builder: where it is, the keys pinned for it and what it said it offers. */
export interface Member {
  readonly alias: string;
  readonly address: string;
  readonly hostKeys: readonly string[];
  readonly info: BuilderInfo;
  readonly readySeconds: number;
}

/** ready: in the machines file; lost: missed heartbeats, removed from it; done: released by stop. */
export type BuilderState = "ready" | "lost" | "done";

export interface ClusterMember extends Member {
  readonly claimedAt: string;
  readonly lastHeartbeat: string;
  /** Heartbeats missed in a row. */
  readonly missed: number;
  readonly state: BuilderState;
  /** The builder's latest usage reading (heartbeats bring it; stop brings the final one). */
  readonly usage?: BuilderUsage;
}

/** What the watchdog and teardown need from the coordinator's configuration. */
export type FarmSettings = Pick<
  Config,
  | "hostname"
  | "stateDir"
  | "sshUser"
  | "sshKey"
  | "jobsPerCore"
  | "leaseSeconds"
  | "builderStateDir"
  | "extraNixConfig"
  | "probeConcurrency"
  | "sshMaster"
>;

/** The settings the farm record keeps, from the coordinator's configuration. */
export function farmSettings(config: FarmSettings): FarmSettings {
  return {
    hostname: config.hostname,
    stateDir: config.stateDir,
    sshUser: config.sshUser,
    sshKey: config.sshKey,
    jobsPerCore: config.jobsPerCore,
    leaseSeconds: config.leaseSeconds,
    builderStateDir: config.builderStateDir,
    extraNixConfig: config.extraNixConfig,
    probeConcurrency: config.probeConcurrency,
    sshMaster: config.sshMaster,
  };
}

/** The coordinator's record of its farm (`<state>/cluster.json`), kept up to date by the watchdog. */
export interface Cluster {
  readonly version: 1;
  readonly settings: FarmSettings;
  readonly wanted: Wanted;
  /** When the coordinator started looking for builders: late joiners' ready times count from here. */
  readonly startedAt?: string;
  readonly readyAt: string;
  readonly builders: readonly ClusterMember[];
}

export function readCluster(files: Files, stateDir: string): Cluster | undefined {
  const text = files.readText(statePath(stateDir, "cluster"));
  return text === undefined ? undefined : JSON.parse(text);
}

export function writeCluster(files: Files, cluster: Cluster): void {
  files.writeAtomic(statePath(cluster.settings.stateDir, "cluster"), JSON.stringify(cluster, null, 2) + "\n", 0o600);
}
