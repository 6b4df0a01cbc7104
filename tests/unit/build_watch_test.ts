import { Files } from "../../lib/core/files.ts";
import assert from "node:assert/strict";
import { buildDirRoots, BuildWatch } from "../../lib/builder/build_watch.ts";

/** A log folder laid out as Nix does (`drvs/<2 chars>/<name>.drv.bz2`) and a temporary folder for build dirs. */
function machine(): { root: string; logs: string; tmp: string } {
  const root = Deno.makeTempDirSync({ prefix: "dnb-watch-" });
  Deno.mkdirSync(`${root}/drvs/ab`, { recursive: true });
  Deno.mkdirSync(`${root}/tmp`);
  return { root, logs: `${root}/drvs`, tmp: `${root}/tmp` };
}

Deno.test("a watch counts each new derivation log once and each build directory while it exists", () => {
  const { root, logs, tmp } = machine();
  try {
    // From before the claim: an old log and a build directory kept by --keep-failed.
    Deno.writeTextFileSync(`${logs}/ab/old-hello.drv.bz2`, "");
    Deno.mkdirSync(`${tmp}/nix-build-failed.drv-0`);
    const watch = new BuildWatch(new Files(), logs, [tmp], Date.now());
    assert.deepEqual(watch.look(1), { at: 1, newLogs: 0, running: 0 });

    Deno.mkdirSync(`${logs}/cd`);
    Deno.writeTextFileSync(`${logs}/cd/a.drv.bz2`, "");
    Deno.mkdirSync(`${tmp}/nix-build-a.drv-0`);
    Deno.mkdirSync(`${tmp}/nix-build-b.drv-0`);
    Deno.writeTextFileSync(`${tmp}/nix-build-not-a-dir`, "");
    Deno.mkdirSync(`${tmp}/unrelated`);
    assert.deepEqual(watch.look(2), { at: 2, newLogs: 1, running: 2 });
    assert.deepEqual(watch.look(3), { at: 3, newLogs: 0, running: 2 });

    // A second log in a folder already seen, and a build that ended.
    Deno.writeTextFileSync(`${logs}/ab/b.drv.bz2`, "");
    Deno.removeSync(`${tmp}/nix-build-a.drv-0`);
    assert.deepEqual(watch.look(4), { at: 4, newLogs: 1, running: 1 });
    Deno.removeSync(`${tmp}/nix-build-b.drv-0`);
    assert.deepEqual(watch.look(5), { at: 5, newLogs: 0, running: 0 });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a watch starts on a machine that never built anything; Nix makes the folders with the first build", () => {
  const root = Deno.makeTempDirSync({ prefix: "dnb-watch-" });
  try {
    const watch = new BuildWatch(new Files(), `${root}/drvs`, [`${root}/builds`], Date.now());
    assert.deepEqual(watch.look(1), { at: 1, newLogs: 0, running: 0 });
    Deno.mkdirSync(`${root}/drvs/ef`, { recursive: true });
    Deno.writeTextFileSync(`${root}/drvs/ef/c.drv`, "");
    Deno.mkdirSync(`${root}/builds/nix-build-c.drv-0`, { recursive: true });
    assert.deepEqual(watch.look(2), { at: 2, newLogs: 1, running: 1 });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a log folder is listed again only when its mtime moves (logs pile up on long-lived machines)", () => {
  const { root, logs, tmp } = machine();
  try {
    const old = new Date("2026-01-01T00:00:00Z");
    Deno.utimeSync(`${logs}/ab`, old, old);
    const watch = new BuildWatch(new Files(), logs, [tmp], Date.now());
    Deno.writeTextFileSync(`${logs}/ab/unseen.drv`, "");
    Deno.utimeSync(`${logs}/ab`, old, old);
    assert.equal(watch.look(1).newLogs, 0);
    const later = new Date("2026-01-01T00:00:01Z");
    Deno.utimeSync(`${logs}/ab`, later, later);
    assert.equal(watch.look(2).newLogs, 1);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("build directories are looked for in TMPDIR, /tmp and Nix 2.30's builds folder, each once", () => {
  const tmp = Deno.realPathSync("/tmp");
  assert.deepEqual(buildDirRoots(new Files(), {}), [tmp, "/nix/var/nix/builds"]);
  assert.deepEqual(buildDirRoots(new Files(), { TMPDIR: "/tmp" }), [tmp, "/nix/var/nix/builds"]);
  assert.deepEqual(buildDirRoots(new Files(), { TMPDIR: "/scratch/t" }), ["/scratch/t", tmp, "/nix/var/nix/builds"]);
});
