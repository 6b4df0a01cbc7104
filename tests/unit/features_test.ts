import assert from "node:assert/strict";
import { buildIdentity, honestFeatures, kvmOpenArgv } from "../../lib/nix/features.ts";

// What Nix 2.8 reports as root on a machine with /dev/kvm: its access() test passes for root.
const NIX_AS_ROOT = ["benchmark", "big-parallel", "kvm", "nixos-test"];

Deno.test("kvm and nixos-test are offered only when builds can open /dev/kvm; the rest is Nix's own list", async (t) => {
  await t.step("Linux, /dev/kvm opens for the build users: Nix's list as it is", () => {
    assert.deepEqual(honestFeatures(NIX_AS_ROOT, "linux", true), NIX_AS_ROOT);
  });
  await t.step("Linux, /dev/kvm absent or not read-write for them: kvm and nixos-test go", () => {
    assert.deepEqual(honestFeatures(NIX_AS_ROOT, "linux", false), ["benchmark", "big-parallel"]);
  });
  await t.step("nothing is added: no big-parallel or kvm where Nix does not report them", () => {
    assert.deepEqual(honestFeatures(["benchmark"], "linux", true), ["benchmark"]);
    assert.deepEqual(honestFeatures([], "linux", true), []);
    assert.deepEqual(honestFeatures(["nixos-test", "uid-range"], "linux", false), ["uid-range"]);
  });
  await t.step("macOS keeps Nix's list (NixOS tests there go through apple-virt)", () => {
    const darwin = ["apple-virt", "benchmark", "big-parallel", "nixos-test"];
    assert.deepEqual(honestFeatures(darwin, "darwin", false), darwin);
  });
});

/** The one /dev/kvm test (builders and doctor): a character device opened read-write, its path an argument. */
const OPEN = '[ -c "$1" ] && exec 3<>"$1"';
const ETC_GROUP = "root:x:0:\nkvm:x:993:\nnixbld:x:30000:nixbld1,nixbld2\nauto:x:30001:\n";
const ETC_PASSWD = "root:x:0:0:root:/root:/bin/bash\n_nixbld1:x:301:30002::/var/empty:/sbin/nologin\n";

Deno.test("the /dev/kvm test runs as the user Nix builds as, with that user's groups", async (t) => {
  await t.step("no build users group: builds run as root, so root opens it", () => {
    assert.deepEqual(kvmOpenArgv(buildIdentity("", ETC_GROUP, ETC_PASSWD)), ["sh", "-c", OPEN, "sh", "/dev/kvm"]);
  });
  await t.step("a listed member of the group, with its supplementary groups (a kvm group would count)", () => {
    assert.deepEqual(kvmOpenArgv(buildIdentity("nixbld", ETC_GROUP, ETC_PASSWD)), [
      "setpriv",
      "--reuid",
      "nixbld1",
      "--regid",
      "nixbld",
      "--init-groups",
      "--",
      "sh",
      "-c",
      OPEN,
      "sh",
      "/dev/kvm",
    ]);
  });
  await t.step("a user whose primary group it is, when the group lists nobody", () => {
    const etcGroup = ETC_GROUP + "nixbld2:x:30002:\n";
    assert.deepEqual(buildIdentity("nixbld2", etcGroup, ETC_PASSWD), {
      kind: "user",
      user: "_nixbld1",
      group: "nixbld2",
    });
  });
  await t.step("nobody at all (auto-allocated uids): an unprivileged uid with only the group", () => {
    assert.deepEqual(kvmOpenArgv(buildIdentity("auto", ETC_GROUP, ETC_PASSWD)).slice(0, 7), [
      "setpriv",
      "--reuid",
      "65534",
      "--regid",
      "auto",
      "--clear-groups",
      "--",
    ]);
  });
});
