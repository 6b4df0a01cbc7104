import assert from "node:assert/strict";
import { knownHostsLines, parseHostKey, preferredHostKey } from "../../lib/ssh/host_keys.ts";

const ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2dJWlrk3nCpImBsSZ5mCRaW2Fq8vA0rQ3y4nQn0aX1";
const ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAb=";

Deno.test("parseHostKey keeps `<type> <base64>` and drops a comment", () => {
  assert.equal(parseHostKey(ed25519), ed25519);
  assert.equal(parseHostKey(`${ed25519} root@b1`), ed25519);
  assert.equal(parseHostKey(`  ${ecdsa}  `), ecdsa);
});

Deno.test("parseHostKey refuses anything that could smuggle text into known_hosts or machines", () => {
  for (
    const bad of [
      "",
      "ssh-ed25519",
      "ssh-ed25519 AAAA...",
      "ssh-dss AAAAB3NzaC1kc3M=",
      `${ed25519}\nevil.example ${ed25519}`,
      `${ed25519} a b`,
      "@cert-authority * ssh-ed25519 AAAA",
    ]
  ) {
    assert.equal(parseHostKey(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("the machines file pins ed25519 when offered, else the first key", () => {
  assert.equal(preferredHostKey([ecdsa, ed25519]), ed25519);
  assert.equal(preferredHostKey([ecdsa]), ecdsa);
  assert.equal(preferredHostKey([]), undefined);
});

Deno.test("known_hosts lines name the alias, one line per key", () => {
  assert.deepEqual(knownHostsLines("b1", [ecdsa, ed25519]), [`b1 ${ecdsa}`, `b1 ${ed25519}`]);
});

Deno.test("a known_hosts line is refused when its alias or key would widen or break the pin", () => {
  assert.throws(() => knownHostsLines("b1,*", [ed25519]), /alias/);
  assert.throws(() => knownHostsLines("@cert-authority", [ed25519]), /alias/);
  assert.throws(() => knownHostsLines("b1", [`${ed25519}\n* ${ed25519}`]), /not one public key/);
  assert.throws(() => knownHostsLines("b1", [`${ed25519} comment`]), /not one public key/);
});
