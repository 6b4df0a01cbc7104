import assert from "node:assert/strict";
import { daemonProtocol, protocolMismatch } from "../../lib/nix/daemon_protocol.ts";

Deno.test("each Nix release's daemon protocol, from worker-protocol.hh at its tag", () => {
  const expected: [string, string | undefined][] = [
    ["2.3.18", "1.21"],
    ["2.4", "1.32"],
    ["2.6.1", "1.32"],
    ["2.7.0", "1.33"],
    ["2.8.0", "1.34"],
    ["2.14.1", "1.34"],
    ["2.15.0", "1.35"],
    ["2.18.1", "1.35"],
    ["2.19.7", "1.35"],
    ["2.20.0", "1.37"],
    ["2.23.4", "1.37"],
    ["2.24.9", "1.38"],
    ["2.29.0", "1.38"],
    ["2.35.2", "1.38"],
    // Beyond the checked table, Lix, and nonsense: unknown, never guessed.
    ["2.36.0", undefined],
    ["2.91.1", undefined],
    ["3.6.2", undefined],
    ["banana", undefined],
  ];
  for (const [version, protocol] of expected) assert.equal(daemonProtocol(version), protocol, version);
});

Deno.test("a builder whose daemon protocol differs from the coordinator's is named in a warning", () => {
  const warning = protocolMismatch("b1", "2.8.0", "2.24.9");
  assert.ok(warning !== undefined);
  assert.match(warning, /^b1 runs Nix 2\.8\.0 \(daemon protocol 1\.34\) and this coordinator Nix 2\.24\.9 \(1\.38\)/);
  assert.match(warning, /they will speak 1\.34/);
  assert.match(warning, /install the same Nix on both/);
  // Different versions with the same protocol, the same version, or an unknown one: no warning.
  assert.equal(protocolMismatch("b1", "2.24.9", "2.29.0"), undefined);
  assert.equal(protocolMismatch("b1", "2.8.0", "2.8.0"), undefined);
  assert.equal(protocolMismatch("b1", "2.91.1", "2.8.0"), undefined);
});
