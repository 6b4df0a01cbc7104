import { Files } from "../../lib/core/files.ts";
import assert from "node:assert/strict";
import { findOnPath } from "../../lib/core/path_lookup.ts";
import { parseNixConfig, parseNixVersion } from "../../lib/nix/probe.ts";

Deno.test("Nix's own system, extra platforms, features and cores are read from its JSON config", () => {
  const json = JSON.stringify({
    system: { value: "aarch64-darwin", defaultValue: "aarch64-darwin" },
    "extra-platforms": { value: ["x86_64-darwin"] },
    "system-features": { value: ["apple-virt", "benchmark", "big-parallel", "nixos-test"] },
    cores: { value: 0 },
    "max-jobs": { value: 1 },
  });
  assert.deepEqual(parseNixConfig(json), {
    system: "aarch64-darwin",
    extraPlatforms: ["x86_64-darwin"],
    systemFeatures: ["apple-virt", "benchmark", "big-parallel", "nixos-test"],
    cores: 0,
    buildUsersGroup: "",
    buildDir: undefined,
  });
  assert.deepEqual(parseNixConfig(JSON.stringify({ system: { value: "x86_64-linux" } })), {
    system: "x86_64-linux",
    extraPlatforms: [],
    systemFeatures: [],
    cores: 0,
    buildUsersGroup: "",
    buildDir: undefined,
  });
});

Deno.test("the build users group and build-dir: absent before Nix 2.22, null when unset, else the path", () => {
  const withSettings = (extra: Record<string, unknown>) =>
    parseNixConfig(JSON.stringify({ system: { value: "x86_64-linux" }, ...extra }));
  // Nix 2.8 (Debian): a build users group, no build-dir setting at all.
  const old = withSettings({ "build-users-group": { value: "nixbld" } });
  assert.equal(old.buildUsersGroup, "nixbld");
  assert.equal(old.buildDir, undefined);
  assert.equal(withSettings({ "build-dir": { value: null } }).buildDir, null);
  assert.equal(withSettings({ "build-dir": { value: "" } }).buildDir, null);
  assert.equal(withSettings({ "build-dir": { value: "/mnt/b" } }).buildDir, "/mnt/b");
});

Deno.test({
  name: "the real Nix here parses, and has build-dir exactly when it is 2.22 or later",
  ignore: findOnPath(new Files(), "nix", Deno.env.get("PATH") ?? "") === undefined,
  fn: async () => {
    const run = async (args: string[]) =>
      new TextDecoder().decode((await new Deno.Command("nix", { args }).output()).stdout);
    const settings = parseNixConfig(
      await run(["--extra-experimental-features", "nix-command", "show-config", "--json"]),
    );
    const [, minor] = parseNixVersion(await run(["--version"])).split(".").map(Number);
    assert.equal(settings.buildDir !== undefined, minor! >= 22);
  },
});

Deno.test("Nix versions from upstream, Debian and Determinate", () => {
  assert.equal(parseNixVersion("nix (Nix) 2.8.0\n"), "2.8.0");
  assert.equal(parseNixVersion("nix (Nix) 2.24.9"), "2.24.9");
  assert.equal(parseNixVersion("nix (Determinate Nix 3.6.2) 2.29.0"), "2.29.0");
  assert.throws(() => parseNixVersion("command not found"), /cannot read the Nix version/);
});
