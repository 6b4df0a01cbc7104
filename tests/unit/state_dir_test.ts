/**
 * The state folder check, in a sandbox root: another user's folder, or one under a folder another
 * user can write, is refused; /tmp's sticky bit is allowed above it; links on the way are followed
 * and checked; creating it never goes through a link, even one planted between the look and the
 * mkdir. Other owners are made with chown, so these run as root (as CI does).
 */
import assert from "node:assert/strict";
import { lchownSync } from "node:fs";
import { checkStateDir, ensureStateDir } from "../../lib/core/state_dir.ts";
import { DnbError } from "../../lib/core/errors.ts";
import { Files } from "../../lib/core/files.ts";
import { sandboxRoot, testContext } from "../support/context.ts";

const NOBODY = 65534;
const AS_ROOT = Deno.uid() === 0;
const UNDER_CI = Deno.env.get("CI") === "true";

/** Needs root for chown; off CI it is skipped without, under CI it fails. */
function rootTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({
    name,
    ignore: !AS_ROOT && !UNDER_CI,
    fn: AS_ROOT ? fn : () => Promise.reject(new Error("needs root (chown)")),
  });
}

/** A sandbox with `/tmp` as on Linux (root's, 1777). */
function machine(files?: Files) {
  const ctx = testContext(files === undefined ? {} : { root: files.root });
  const real = (path: string) => ctx.files.at(path);
  Deno.mkdirSync(real("/tmp"));
  Deno.chmodSync(real("/tmp"), 0o1777);
  return { ctx: files === undefined ? ctx : { ...ctx, files }, real };
}

const refused = (pattern: RegExp) => (error: Error) => error instanceof DnbError && pattern.test(error.message);

Deno.test("a missing state folder is made 0755 (umask or not); a present one of root's passes; none is no state", () => {
  const { ctx, real } = machine();
  assert.equal(checkStateDir(ctx, "/tmp/dnb"), false);
  assert.equal(checkStateDir(ctx, "/var/lib/dnb/state"), false);
  const umask = Deno.umask(0o077);
  try {
    ensureStateDir(ctx, "/var/lib/dnb/state");
  } finally {
    Deno.umask(umask);
  }
  for (const path of ["/var", "/var/lib", "/var/lib/dnb", "/var/lib/dnb/state"]) {
    assert.equal(Deno.lstatSync(real(path)).mode! & 0o7777, 0o755, path);
  }
  assert.equal(checkStateDir(ctx, "/var/lib/dnb/state"), true);
  ensureStateDir(ctx, "/tmp/dnb");
  assert.equal(checkStateDir(ctx, "/tmp/dnb/"), true);
});

rootTest("another user's state folder, or one open to others' writes, is refused", () => {
  const { ctx, real } = machine();
  Deno.mkdirSync(real("/tmp/theirs"));
  Deno.chownSync(real("/tmp/theirs"), NOBODY, NOBODY);
  for (const check of [checkStateDir, ensureStateDir]) {
    assert.throws(
      () => check(ctx, "/tmp/theirs"),
      refused(/^state folder \/tmp\/theirs is owned by uid 65534, not by root or this user$/),
    );
  }
  Deno.mkdirSync(real("/tmp/open"), { mode: 0o755 });
  Deno.chmodSync(real("/tmp/open"), 0o775);
  assert.throws(
    () => checkStateDir(ctx, "/tmp/open"),
    refused(/^state folder \/tmp\/open is writable by other users$/),
  );
  // Sticky is fine above the folder, never for the folder itself.
  Deno.chmodSync(real("/tmp/open"), 0o1777);
  assert.throws(() => checkStateDir(ctx, "/tmp/open"), refused(/is writable by other users$/));
});

rootTest("a folder above that another user owns or may write is refused, even where the state folder is root's", () => {
  const { ctx, real } = machine();
  Deno.mkdirSync(real("/tmp/theirs/dnb"), { recursive: true, mode: 0o755 });
  Deno.chownSync(real("/tmp/theirs"), NOBODY, NOBODY);
  for (const check of [checkStateDir, ensureStateDir]) {
    assert.throws(
      () => check(ctx, "/tmp/theirs/dnb"),
      refused(/^state folder \/tmp\/theirs\/dnb is refused: \/tmp\/theirs is owned by uid 65534/),
    );
  }
  // Still refused where the state folder is not there yet: nothing is made below another user's folder.
  assert.throws(() => ensureStateDir(ctx, "/tmp/theirs/new"), refused(/\/tmp\/theirs is owned by uid 65534/));
  assert.equal(Deno.statSync(real("/tmp/theirs")).isDirectory && !exists(real("/tmp/theirs/new")), true);
  // Group-writable without the sticky bit: another member could rename the folder away.
  Deno.mkdirSync(real("/srv/shared/dnb"), { recursive: true, mode: 0o755 });
  Deno.chmodSync(real("/srv/shared"), 0o775);
  assert.throws(
    () => checkStateDir(ctx, "/srv/shared/dnb"),
    refused(/^state folder \/srv\/shared\/dnb is refused: \/srv\/shared is writable by other users/),
  );
});

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

rootTest("links on the way are followed and checked: root's link passes, another user's is refused", () => {
  const { ctx, real } = machine();
  // macOS: /tmp is root's link to private/tmp.
  Deno.mkdirSync(real("/private/tmp"), { recursive: true });
  Deno.chmodSync(real("/private/tmp"), 0o1777);
  Deno.symlinkSync("private/tmp", real("/mtmp"));
  ensureStateDir(ctx, "/mtmp/dnb");
  assert.ok(Deno.lstatSync(real("/private/tmp/dnb")).isDirectory);
  assert.equal(checkStateDir(ctx, "/mtmp/dnb"), true);
  // The state folder itself a link: refused, even root's.
  Deno.symlinkSync("../private/tmp/dnb", real("/tmp/link"));
  assert.throws(() => checkStateDir(ctx, "/tmp/link"), refused(/^state folder \/tmp\/link is a symbolic link$/));
  // Another user's link above the folder, to a folder only root writes: nothing is made there.
  Deno.mkdirSync(real("/etc/secret"), { recursive: true, mode: 0o700 });
  Deno.symlinkSync("../etc/secret", real("/tmp/planted"));
  lchownSync(real("/tmp/planted"), NOBODY, NOBODY);
  assert.throws(
    () => ensureStateDir(ctx, "/tmp/planted/dnb"),
    refused(/^state folder \/tmp\/planted\/dnb is refused: \/tmp\/planted is owned by uid 65534/),
  );
  assert.deepEqual([...Deno.readDirSync(real("/etc/secret"))], []);
  // A loop of links ends with a refusal, not a hang.
  Deno.symlinkSync("loop2", real("/loop1"));
  Deno.symlinkSync("loop1", real("/loop2"));
  assert.throws(() => checkStateDir(ctx, "/loop1/dnb"), refused(/more than 32 links on the way/));
});

/** Files whose first look at `path` finds nothing and then lets "another user" plant a link there. */
class RacingFiles extends Files {
  #raced = false;
  constructor(root: string, readonly path: string, readonly target: string) {
    super(root);
  }
  override lstat(path: string): Deno.FileInfo | undefined {
    const info = super.lstat(path);
    if (path === this.path && info === undefined && !this.#raced) {
      this.#raced = true;
      // Relative, so the kernel too finds the target inside the sandbox.
      Deno.symlinkSync(`..${this.target}`, this.at(path));
      lchownSync(this.at(path), NOBODY, NOBODY);
    }
    return info;
  }
}

rootTest("a link planted between the look and the mkdir is refused, and nothing changes where it points", () => {
  const files = new RacingFiles(sandboxRoot(), "/tmp/dnb", "/etc/ssh");
  const { ctx, real } = machine(files);
  Deno.mkdirSync(real("/etc/ssh"), { recursive: true, mode: 0o700 });
  Deno.chmodSync(real("/etc/ssh"), 0o700);
  // Refused (the link is another user's) by the mkdir that does not follow it.
  assert.throws(() => ensureStateDir(ctx, "/tmp/dnb"), refused(/^state folder \/tmp\/dnb /));
  // The old way (mkdir -p, chmod 0755, then lstat) also refused, but had opened /etc/ssh to everyone by then.
  assert.equal(Deno.statSync(real("/etc/ssh")).mode! & 0o7777, 0o700);
  assert.ok(Deno.lstatSync(real("/tmp/dnb")).isSymlink);
});
