import assert from "node:assert/strict";
import { noChanges, prepareBuildDir, undoBuilderChanges } from "../../lib/builder/setup.ts";
import { KVM_RULE, KVM_RULES_FILE } from "../../lib/nix/features.ts";

import type { NixProbe } from "../../lib/nix/probe.ts";
import { argvIs, FakeRunner, type ScriptedResult } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";
import { NIX_DAEMON_SOCKET } from "../../lib/nix/daemon.ts";
import { enableKvm, kvmUsable } from "../../lib/builder/kvm.ts";

/** dnb's state folder, inside each test's own root. */
const STATE = "/run/dnb";

function contextWith(script: readonly ScriptedResult[], files: Record<string, string>, os = "linux") {
  const ctx = testContext({ files });
  return { ...ctx, runner: new FakeRunner(script), platform: { os, arch: "x86_64" } };
}

const argvs = (runner: FakeRunner) => runner.calls.map((call) => call.argv.join(" "));

/** udevadm applying the rules, each step succeeding. */
const UDEVADM: readonly ScriptedResult[] = [
  { when: argvIs("udevadm", "control", "--reload-rules") },
  { when: argvIs("udevadm", "trigger", "--name-match=kvm") },
  { when: argvIs("udevadm", "settle", "--timeout=10") },
];

Deno.test("--enable-kvm writes the udev rule and applies it; the way out removes it and applies the rules again", async () => {
  const rules = KVM_RULES_FILE;
  const ctx = contextWith(UDEVADM, { "/dev/kvm": "" });
  const changes = noChanges();
  changes.kvmRule = await enableKvm(ctx, STATE);
  assert.equal(changes.kvmRule, true);
  assert.equal(ctx.files.readText(rules), KVM_RULE);
  assert.match(KVM_RULE, /^KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS\+="static_node=kvm"$/m);
  const apply = ["udevadm control --reload-rules", "udevadm trigger --name-match=kvm", "udevadm settle --timeout=10"];
  assert.deepEqual(argvs(ctx.runner), apply);

  await undoBuilderChanges(ctx, STATE, changes);
  assert.equal(ctx.files.exists(rules), false);
  assert.deepEqual(argvs(ctx.runner), [...apply, ...apply]);
  assert.match(ctx.stderr.join("\n"), /removed .*99-dnb-kvm\.rules/);
});

Deno.test("--enable-kvm keeps an existing rules file and puts it back byte for byte", async () => {
  const rules = KVM_RULES_FILE;
  const ctx = contextWith(UDEVADM, { "/dev/kvm": "", [rules]: "# the admin's own rule, no final newline" });
  const changes = { ...noChanges(), kvmRule: await enableKvm(ctx, STATE) };
  assert.equal(ctx.files.readText(rules), KVM_RULE);
  await undoBuilderChanges(ctx, STATE, changes);
  assert.equal(ctx.files.readText(rules), "# the admin's own rule, no final newline");
});

Deno.test("--enable-kvm without /dev/kvm, or off Linux, changes nothing and says why", async (t) => {
  for (
    const [name, files, os, why] of [
      ["no /dev/kvm", {}, "linux", /no \/dev\/kvm/],
      ["macOS", { "/dev/kvm": "" }, "darwin", /only Linux has \/dev\/kvm/],
    ] as const
  ) {
    await t.step(name, async () => {
      const rules = KVM_RULES_FILE;
      const ctx = contextWith([], files, os);
      assert.equal(await enableKvm(ctx, STATE), false);
      assert.equal(ctx.files.exists(rules), false);
      assert.deepEqual(ctx.runner.calls, []);
      assert.match(ctx.stderr.join("\n"), why);
    });
  }
});

Deno.test("a udevadm failure is a warning, and the rule is still removed on the way out", async () => {
  const rules = KVM_RULES_FILE;
  const ctx = contextWith([{ when: (argv) => argv[0] === "udevadm", code: 127, stderr: "udevadm: not found" }], {
    "/dev/kvm": "",
  });
  const changes = { ...noChanges(), kvmRule: await enableKvm(ctx, STATE) };
  assert.match(
    ctx.stderr.join("\n"),
    /warning: --enable-kvm: udevadm control --reload-rules failed: udevadm: not found/,
  );
  await undoBuilderChanges(ctx, STATE, changes);
  assert.equal(ctx.files.exists(rules), false);
});

Deno.test("kvm is usable only when /dev/kvm opens read-write as the build user", async (t) => {
  const files = {
    "/dev/kvm": "",
    "/etc/group": "nixbld:x:30000:nixbld1,nixbld2\n",
    "/etc/passwd": "",
  };
  await t.step("present and it opens", async () => {
    const setpriv = ["setpriv", "--reuid", "nixbld1", "--regid", "nixbld", "--init-groups", "--", "sh", "-c"];
    const ctx = contextWith([{ when: argvIs(...setpriv, '[ -c "$1" ] && exec 3<>"$1"', "sh", "/dev/kvm") }], files);
    assert.deepEqual(await kvmUsable(ctx, "nixbld"), { usable: true });
    assert.equal(ctx.runner.calls[0]?.argv.slice(0, 3).join(" "), "setpriv --reuid nixbld1");
  });
  await t.step("present but root:kvm 0660, as on GitHub's runners", async () => {
    const ctx = contextWith([{
      when: (argv) => argv[0] === "setpriv",
      code: 2,
      stderr: "sh: 1: cannot create /dev/kvm: Permission denied",
    }], files);
    assert.deepEqual(await kvmUsable(ctx, "nixbld"), {
      usable: false,
      why: "/dev/kvm does not open read-write for build user nixbld1 (group nixbld)",
    });
  });
  await t.step("absent: nothing to run", async () => {
    const ctx = contextWith([], { "/etc/group": files["/etc/group"] });
    assert.deepEqual(await kvmUsable(ctx, "nixbld"), { usable: false, why: "this machine has no /dev/kvm" });
    assert.deepEqual(ctx.runner.calls, []);
  });
  await t.step("no setpriv to test with: not offered, and said so", async () => {
    const ctx = contextWith([{ when: () => true, code: 127 }], files);
    assert.equal((await kvmUsable(ctx, "nixbld")).why, "setpriv is missing, so it cannot be tested");
  });
});

const NIX: NixProbe = {
  system: "x86_64-linux",
  extraPlatforms: [],
  systemFeatures: [],
  cores: 4,
  buildUsersGroup: "nixbld",
  buildDir: null,
  version: "2.24.9",
  daemonPath: "/nix/var/nix/profiles/default/bin/nix-daemon",
};

/** `df -PkT` with a nearly full / and a big disk mounted at `big`, and `df -Pk <path>` answers. */
function dfScript(big: string): ScriptedResult[] {
  return [
    {
      when: (argv) => argv.join(" ") === "df -PkT",
      stdout: "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n" +
        "/dev/root ext4 75085112 70000000 5000000 94% /\n" +
        `/dev/sdb1 ext4 76829444 4194308 68703080 6% ${big}\n`,
    },
    {
      when: (argv) => argv[0] === "df" && argv[2] === "/nix/store",
      stdout: "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/root 1 1 5000000 94% /\n",
    },
    {
      when: (argv) => argv[0] === "df" && argv[1] === "-Pk",
      stdout: `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 1 1 68703080 6% ${big}\n`,
    },
  ];
}

Deno.test("build-dir goes on the disk with the most free space, and everything is put back on the way out", async () => {
  const big = "/mnt";
  const original = "build-users-group = nixbld\nsandbox = true";
  const ctx = contextWith([...dfScript(big), { when: argvIs("systemctl", "restart", "nix-daemon.service") }], {
    [NIX_DAEMON_SOCKET]: "",
    "/etc/nix/nix.conf": original,
  });
  ctx.files.makeDir(big, 0o755);
  ctx.files.makeDir("/nix/store", 0o755);
  const changes = noChanges();
  const outcome = await prepareBuildDir(ctx, STATE, NIX, changes);

  assert.equal(outcome.buildDir, `${big}/dnb-build`);
  assert.equal(outcome.buildDirFreeBytes, 68703080 * 1024);
  assert.equal(outcome.storeFreeBytes, 5000000 * 1024);
  assert.equal(outcome.note, undefined);
  assert.equal((ctx.files.stat(`${big}/dnb-build`)?.mode ?? 0) & 0o777, 0o755);
  assert.equal(
    ctx.files.readText("/etc/nix/nix.conf"),
    `${original}\n# >>> dnb >>>\nbuild-dir = ${big}/dnb-build\n# <<< dnb <<<`,
  );
  // The system daemon serves builds for a non-root ssh user: it rereads nix.conf.
  assert.ok(argvs(ctx.runner).includes("systemctl restart nix-daemon.service"));

  ctx.files.writeAtomic(`${big}/dnb-build/left-by-a-failed-build`, "");
  await undoBuilderChanges(ctx, STATE, changes);
  assert.equal(ctx.files.readText("/etc/nix/nix.conf"), original);
  assert.equal(ctx.files.exists(`${big}/dnb-build`), false);
  assert.equal(argvs(ctx.runner).filter((argv) => argv === "systemctl restart nix-daemon.service").length, 2);
});

Deno.test("a world-writable folder on the way is never a build-dir (Nix refuses one)", async () => {
  const big = "/mnt";
  const ctx = contextWith(dfScript(big), {});
  ctx.files.makeDir(big, 0o1777);
  const changes = noChanges();
  const outcome = await prepareBuildDir(ctx, STATE, NIX, changes);
  // The next best disk holds the store: Nix's own folder there.
  assert.equal(outcome.buildDir, "/nix/var/nix/builds");
  assert.equal(ctx.files.exists(`${big}/dnb-build`), false);
  assert.match(ctx.files.readText("/etc/nix/nix.conf") ?? "", /^build-dir = \/nix\/var\/nix\/builds$/m);
  await undoBuilderChanges(ctx, STATE, changes);
  assert.equal(ctx.files.exists("/etc/nix/nix.conf"), false);
});

Deno.test("Nix without build-dir (2.8), a user's own build-dir, or macOS: nothing changes, free space is still told", async (t) => {
  const cases: [string, Partial<NixProbe>, string, string, RegExp | undefined][] = [
    ["Nix 2.8", { buildDir: undefined, version: "2.8.0" }, "linux", "/tmp", /Nix 2\.8\.0 has no build-dir setting/],
    ["build-dir set by the user", { buildDir: "/data/b" }, "linux", "/data/b", /build-dir is set in nix\.conf: kept/],
    ["macOS with Nix 2.30", { version: "2.30.0" }, "darwin", "/nix/var/nix/builds", undefined],
  ];
  for (const [name, nix, os, buildDir, note] of cases) {
    await t.step(name, async () => {
      const ctx = contextWith(dfScript("/mnt"), { [NIX_DAEMON_SOCKET]: "" }, os);
      ctx.files.makeDir("/etc/nix", 0o755);
      const changes = noChanges();
      const outcome = await prepareBuildDir(ctx, STATE, { ...NIX, ...nix }, changes);
      assert.equal(outcome.buildDir, buildDir);
      // A note says why dnb left the build folder alone; where there is nothing to explain there is none.
      if (note === undefined) assert.equal(outcome.note, undefined);
      else assert.match(outcome.note ?? "", note);
      assert.ok(outcome.buildDirFreeBytes !== undefined && outcome.storeFreeBytes !== undefined);
      assert.deepEqual(changes, noChanges());
      assert.deepEqual(ctx.files.list("/etc/nix"), []);
      assert.ok(!argvs(ctx.runner).some((argv) => argv.startsWith("systemctl") || argv === "df -PkT"));
    });
  }
});
