/**
 * Teardown puts back only the system files dnb manages, never with setuid/setgid/sticky bits, and only
 * from a backup that is a regular file where dnb keeps it: whatever changes.json says. In a sandbox root.
 */
import assert from "node:assert/strict";
import {
  backupPath,
  MANAGED_SYSTEM_FILES,
  recordCreated,
  restoreSystemFiles,
  STOP_COMMAND_NAME,
  writeSystemFile,
} from "../../lib/core/system_files.ts";
import { STOP_ALIAS } from "../../lib/config/names.ts";
import { MACHINES_FILE, NIX_CONF_DIR, nixConfTarget } from "../../lib/nix/conf.ts";
import { KVM_RULES_FILE } from "../../lib/nix/features.ts";
import { SSH_CONFIG, SSH_CONFIG_DROPIN } from "../../lib/ssh/ssh_config.ts";
import { testContext } from "../support/context.ts";

const STATE = "/run/dnb";

function machine(files: Record<string, string> = {}) {
  const ctx = testContext({ files });
  ctx.files.makeDir(STATE, 0o755);
  return ctx;
}

const plantChanges = (ctx: ReturnType<typeof machine>, changes: unknown[]) =>
  ctx.files.writeAtomic(`${STATE}/changes.json`, JSON.stringify(changes), 0o600);

Deno.test("the managed list is every path the writers use, and stop-nix-builders is config's name", () => {
  const written = [
    MACHINES_FILE,
    nixConfTarget(undefined),
    nixConfTarget("!include nix.custom.conf\n"),
    SSH_CONFIG,
    SSH_CONFIG_DROPIN,
    KVM_RULES_FILE,
  ];
  assert.deepEqual([...MANAGED_SYSTEM_FILES].sort(), [...new Set(written)].sort());
  assert.equal(NIX_CONF_DIR, "/etc/nix");
  assert.equal(STOP_COMMAND_NAME, STOP_ALIAS);
});

Deno.test("a managed file is put back byte for byte with its permission bits, never setuid", () => {
  const ctx = machine({ "/etc/nix/nix.conf": "sandbox = true\n" });
  Deno.chmodSync(ctx.files.at("/etc/nix/nix.conf"), 0o4755);
  writeSystemFile(ctx.files, STATE, "/etc/nix/nix.conf", "dnb's\n");
  // Written without the setuid bit, and that is what is recorded.
  assert.equal(ctx.files.stat("/etc/nix/nix.conf")!.mode! & 0o7777, 0o755);
  const [change] = JSON.parse(ctx.files.readText(`${STATE}/changes.json`)!);
  assert.equal(change.mode, 0o755);
  // A changes.json that asks for the bits anyway does not get them.
  plantChanges(ctx, [{ ...change, mode: 0o6755 }]);
  assert.deepEqual(restoreSystemFiles(ctx.files, STATE), {
    restored: ["/etc/nix/nix.conf"],
    removed: [],
    refused: [],
  });
  assert.equal(ctx.files.readText("/etc/nix/nix.conf"), "sandbox = true\n");
  assert.equal(ctx.files.stat("/etc/nix/nix.conf")!.mode! & 0o7777, 0o755);
});

Deno.test("changes.json is refused for paths dnb does not manage and for backups that are not dnb's", () => {
  const ctx = machine({
    "/usr/bin/passwd": "root's program\n",
    "/etc/nix/machines": "the user's machines\n",
    "/etc/ssh/ssh_config": "the user's ssh config\n",
    "/home/mallory/payload": "#!/bin/sh\nexec sh -p\n",
    [`${STATE}/backup/payload`]: "#!/bin/sh\nexec sh -p\n",
  });
  ctx.files.symlink("/home/mallory/payload", backupPath(STATE, "/etc/nix/nix.conf"));
  plantChanges(ctx, [
    // Any bytes, setuid, to any path: the reported attack.
    { path: "/usr/bin/passwd", existed: true, backup: `${STATE}/backup/payload`, mode: 0o4755 },
    { path: "/usr/bin/passwd", existed: false },
    // A managed path, from a backup elsewhere, or through a link, or from no backup at all.
    { path: "/etc/nix/machines", existed: true, backup: "/home/mallory/payload", mode: 0o644 },
    { path: "/etc/nix/nix.conf", existed: true, backup: backupPath(STATE, "/etc/nix/nix.conf"), mode: 0o644 },
    { path: "/etc/ssh/ssh_config", existed: true },
    { path: 42, existed: false },
    "not an entry",
  ]);
  const restore = restoreSystemFiles(ctx.files, STATE);
  assert.deepEqual(restore.restored, []);
  assert.deepEqual(restore.removed, []);
  assert.deepEqual(restore.refused, [
    `"undefined" (not an entry)`,
    `"42" (not a file dnb manages)`,
    `"/etc/ssh/ssh_config" (a backup that is not where dnb keeps it)`,
    `"/etc/nix/nix.conf" (a backup that is not a regular file in the state folder)`,
    `"/etc/nix/machines" (a backup that is not where dnb keeps it)`,
    `"/usr/bin/passwd" (not a file dnb manages)`,
    `"/usr/bin/passwd" (not a file dnb manages)`,
  ]);
  assert.equal(ctx.files.readText("/usr/bin/passwd"), "root's program\n");
  assert.equal(ctx.files.stat("/usr/bin/passwd")!.mode! & 0o7777, 0o644);
  assert.equal(ctx.files.readText("/etc/nix/machines"), "the user's machines\n");
  assert.equal(ctx.files.readText("/etc/ssh/ssh_config"), "the user's ssh config\n");
  assert.equal(ctx.files.exists("/etc/nix/nix.conf"), false);
});

Deno.test("stop-nix-builders: the script in the state folder, or a link beside the dnb it points to", () => {
  const ctx = machine({ "/usr/local/bin/dnb": "", "/usr/local/bin/other": "" });
  ctx.files.makeDir(`${STATE}/bin`, 0o755);
  ctx.files.writeAtomic(`${STATE}/bin/stop-nix-builders`, "#!/bin/sh\n", 0o755);
  recordCreated(ctx.files, STATE, `${STATE}/bin/stop-nix-builders`);
  ctx.files.symlink("/usr/local/bin/dnb", "/usr/local/bin/stop-nix-builders");
  recordCreated(ctx.files, STATE, "/usr/local/bin/stop-nix-builders");
  assert.throws(() => recordCreated(ctx.files, STATE, "/usr/local/bin/other"), /is not a file dnb manages/);
  assert.throws(() => writeSystemFile(ctx.files, STATE, "/etc/passwd", "x"), /is not a file dnb manages/);
  // A file of that name that is no such link stays.
  ctx.files.writeAtomic("/opt/stop-nix-builders", "someone's\n");
  ctx.files.makeDir("/srv", 0o755);
  ctx.files.symlink("/usr/local/bin/dnb", "/srv/stop-nix-builders");
  const changes = JSON.parse(ctx.files.readText(`${STATE}/changes.json`)!);
  plantChanges(ctx, [
    ...changes,
    { path: "/opt/stop-nix-builders", existed: false },
    { path: "/srv/stop-nix-builders", existed: false },
  ]);
  const restore = restoreSystemFiles(ctx.files, STATE);
  assert.deepEqual(restore.removed, ["/usr/local/bin/stop-nix-builders", `${STATE}/bin/stop-nix-builders`]);
  assert.equal(restore.refused.length, 2);
  assert.ok(ctx.files.exists("/opt/stop-nix-builders") && ctx.files.lstat("/srv/stop-nix-builders")?.isSymlink);
  assert.ok(ctx.files.exists("/usr/local/bin/dnb"));
});
