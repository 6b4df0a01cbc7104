import assert from "node:assert/strict";
import { parseNixConfig, parseNixVersion } from "../../lib/nix_probe.ts";

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
  });
  assert.deepEqual(parseNixConfig(JSON.stringify({ system: { value: "x86_64-linux" } })), {
    system: "x86_64-linux",
    extraPlatforms: [],
    systemFeatures: [],
    cores: 0,
  });
});

Deno.test("Nix versions from upstream, Debian and Determinate", () => {
  assert.equal(parseNixVersion("nix (Nix) 2.8.0\n"), "2.8.0");
  assert.equal(parseNixVersion("nix (Nix) 2.24.9"), "2.24.9");
  assert.equal(parseNixVersion("nix (Determinate Nix 3.6.2) 2.29.0"), "2.29.0");
  assert.throws(() => parseNixVersion("command not found"), /cannot read the Nix version/);
});
