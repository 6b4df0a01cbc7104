import assert from "node:assert/strict";
import { buildDirCandidates, effectiveBuildDir, mountOf, pathAndAncestors } from "../../lib/nix/build_dir.ts";
import { parseDfAvailable, parseDfTable } from "../../lib/core/disk.ts";

const GiB = 2 ** 30;

/** `df -PkT` on a GitHub ubuntu-24.04 runner: a nearly full root disk, a big empty /mnt. */
const RUNNER = `Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
/dev/root      ext4        75085112 54802928  20265800      74% /
tmpfs          tmpfs        8186240       84   8186156       1% /dev/shm
tmpfs          tmpfs        3274496     1064   3273432       1% /run
tmpfs          tmpfs           5120        0      5120       0% /run/lock
/dev/sda16     ext4          901520    60980    777412       8% /boot
/dev/sda15     vfat          106832     6250    100582       6% /boot/efi
/dev/loop0     squashfs       65536    65536         0     100% /snap/core20/2434
/dev/sdb1      ext4        76829444 4194308  68703080       6% /mnt
tmpfs          tmpfs        1637248       12   1637236       1% /run/user/1001
`;

/** The same runner after nothing-but-nix: /nix is one big btrfs volume made of the free space. */
const NOTHING_BUT_NIX = `Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
/dev/root      ext4        75085112 70000000   5084112      94% /
/dev/mapper/nix btrfs     134217728   163840 133000000       1% /nix
/dev/sda16     ext4          901520    60980    777412       8% /boot
`;

Deno.test("df -PkT is read into type, free bytes and mount point", () => {
  const mounts = parseDfTable(RUNNER);
  assert.equal(mounts.length, 9);
  assert.deepEqual(mounts[0], { type: "ext4", availableBytes: 20265800 * 1024, mountPoint: "/" });
  assert.deepEqual(mounts.at(-1)?.mountPoint, "/run/user/1001");
  assert.equal(
    parseDfAvailable("Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 10 4 6 40% /\n"),
    6144,
  );
  assert.equal(parseDfAvailable("df: /nope: No such file or directory\n"), undefined);
});

Deno.test("builds go to the local disk with the most free space", async (t) => {
  await t.step("a plain runner: /mnt, not the nearly full root disk (tmpfs, /boot, snaps never)", () => {
    const candidates = buildDirCandidates(parseDfTable(RUNNER));
    assert.deepEqual(candidates.map((candidate) => candidate.dir), ["/mnt/dnb-build", "/nix/var/nix/builds"]);
    assert.equal(Math.round(candidates[0]!.availableBytes / GiB), 66);
  });
  await t.step("after nothing-but-nix: /nix, in Nix's own folder there", () => {
    assert.equal(buildDirCandidates(parseDfTable(NOTHING_BUT_NIX))[0]?.dir, "/nix/var/nix/builds");
  });
  await t.step("a tie goes to the store's file system; / gets /dnb-build when /nix is elsewhere", () => {
    const tie = [
      { type: "xfs", availableBytes: 10 * GiB, mountPoint: "/" },
      { type: "ext4", availableBytes: 10 * GiB, mountPoint: "/nix" },
    ];
    assert.deepEqual(buildDirCandidates(tie).map((candidate) => candidate.dir), ["/nix/var/nix/builds", "/dnb-build"]);
  });
  await t.step("no local disk at all: nothing to choose", () => {
    assert.deepEqual(
      buildDirCandidates(parseDfTable("Filesystem Type 1024-blocks Used Available Capacity Mounted on\n")),
      [],
    );
    assert.deepEqual(buildDirCandidates([{ type: "nfs4", availableBytes: GiB, mountPoint: "/srv" }]), []);
  });
  await t.step("a mount point a nix.conf value cannot hold is skipped", () => {
    const mounts = parseDfTable("h\n/dev/x ext4 1 0 999999 1% /media/my disk\n/dev/y ext4 1 0 5 1% /data\n");
    assert.deepEqual(buildDirCandidates(mounts).map((candidate) => candidate.dir), ["/data/dnb-build"]);
  });
});

Deno.test("where builds go when dnb sets nothing, by Nix version and setting", () => {
  assert.equal(effectiveBuildDir(undefined, "2.8.0"), "/tmp");
  assert.equal(effectiveBuildDir(null, "2.24.9"), "/tmp");
  assert.equal(effectiveBuildDir(null, "2.30.0"), "/nix/var/nix/builds");
  assert.equal(effectiveBuildDir("/big/b", "2.30.0"), "/big/b");
  assert.equal(effectiveBuildDir(undefined, "2.91.1"), "/tmp", "Lix, forked from 2.18");
});

Deno.test("the mount that holds a path, and a path's ancestors", () => {
  const mounts = parseDfTable(RUNNER);
  assert.equal(mountOf("/nix/store", mounts)?.mountPoint, "/");
  assert.equal(mountOf("/mnt/dnb-build", mounts)?.mountPoint, "/mnt");
  assert.equal(mountOf("/mntx", mounts)?.mountPoint, "/");
  assert.deepEqual(pathAndAncestors("/nix/var/nix"), ["/", "/nix", "/nix/var", "/nix/var/nix"]);
});
