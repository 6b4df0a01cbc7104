import assert from "node:assert/strict";
import { claimBuilder, classifyClaimFailure } from "../../lib/farm/claim.ts";
import { CLAIM_SCRIPT } from "../../lib/protocol/scripts.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";
import { builderInfo } from "../support/builder_info.ts";

const info = builderInfo({ systems: ["x86_64-linux", "i686-linux"], features: ["big-parallel"] });

Deno.test("a claim is one fixed ssh command; the state folder and claim travel on stdin", async () => {
  const ctx = testContext();
  const runner = new FakeRunner([{ when: (argv) => argv[0] === "ssh", stdout: JSON.stringify(info) }]);
  const outcome = await claimBuilder({ ...ctx, runner }, {
    sshConfig: "/tmp/dnb/ssh_config",
    alias: "b1",
    builderStateDir: "/tmp/dnb; rm -rf /",
    claim: { coordinator: "c", lease: 120 },
  });
  assert.deepEqual(outcome, { ok: true, info });
  assert.deepEqual(runner.calls[0]?.argv, ["ssh", "-F", "/tmp/dnb/ssh_config", "b1", CLAIM_SCRIPT]);
  assert.equal(runner.calls[0]?.stdin, '/tmp/dnb; rm -rf /\n{"coordinator":"c","lease":120}\n');
});

Deno.test("an invalid or absurd info.json is refused with the reason", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "hello", /info\.json is not JSON/],
    ["zero cores", { ...info, cores: 0 }, /cores: cores must be at least 1/],
    ["unknown system", { ...info, systems: ["x86_64-linux", "windows 95"] }, /systems\.1: unknown system string/],
    ["made-up system", { ...info, system: "banana-linux" }, /system: unknown system string/],
    ["system of another kernel", { ...info, systems: ["x86_64-windows"] }, /systems\.0: unknown system string/],
    ["no systems", { ...info, systems: [] }, /systems/],
    ["absurd core count", { ...info, cores: 1e6 }, /cores/],
    ["fractional cores", { ...info, cores: 2.5 }, /cores/],
    ["feature with a space", { ...info, features: ["kvm big-parallel"] }, /features\.0/],
    ["wrong protocol version", { ...info, version: 2 }, /version/],
    ["an array", [info], /top level/],
    ["relative daemon", { ...info, nixDaemon: "nix-daemon" }, /nixDaemon must be an absolute path/],
    ["relative build dir", { ...info, disk: { buildDir: "tmp" } }, /disk\.buildDir: buildDir must be an absolute path/],
    ["negative free space", { ...info, disk: { buildDir: "/tmp", storeFreeBytes: -1 } }, /disk\.storeFreeBytes/],
    // Fields that reach the machines file: Nix splits on `;`, comments out after `#`, includes `@path`, and
    // reads `?`, `&` and `=` as store-URI parameters (a reproduced attack printed /etc/shadow in a build error).
    ["daemon with machines syntax", { ...info, nixDaemon: "/nix/store/x;@/etc/shadow#" }, /nixDaemon must be/],
    ["daemon with URI parameters", { ...info, nixDaemon: "/bin/nix-daemon&ssh-key=/root/.ssh/id" }, /nixDaemon/],
    ["daemon with a newline", { ...info, nixDaemon: "/bin/nix-daemon\n@/etc/shadow" }, /nixDaemon/],
    ["build dir with a comment", { ...info, disk: { buildDir: "/tmp#x" } }, /disk\.buildDir: buildDir must be/],
    ["feature with a comma", { ...info, features: ["kvm,big-parallel"] }, /features\.0: a feature is a word/],
    ["feature with a semicolon", { ...info, features: ["kvm;@/etc/shadow"] }, /features\.0/],
    ["upper-case feature", { ...info, features: ["KVM"] }, /features\.0/],
    ["hostname not a DNS label", { ...info, hostname: "-b1" }, /hostname must be a DNS label/],
    ["hostname with markdown", { ...info, hostname: "b1|![x](http://e/)" }, /hostname/],
    ["version with a space", { ...info, nixVersion: "2.24.9 | evil" }, /nixVersion must be a version string/],
    ["os with a newline", { ...info, os: "linux\n::error::x" }, /os/],
    ["started at not a time", { ...info, startedAt: "yesterday" }, /startedAt/],
    ["a megabyte of info", { ...info, padding: "x".repeat(1_000_000) }, /info\.json is larger than 65536 bytes/],
  ];
  for (const [name, body, reason] of cases) {
    await t.step(name, async () => {
      const runner = new FakeRunner([{
        when: () => true,
        stdout: typeof body === "string" ? body : JSON.stringify(body),
      }]);
      const outcome = await claimBuilder({ ...testContext(), runner }, {
        sshConfig: "/c",
        alias: "b1",
        builderStateDir: "/tmp/dnb",
        claim: {},
      });
      assert.equal(outcome.ok, false);
      assert.match(outcome.ok ? "" : outcome.reason, reason);
      assert.equal(outcome.ok ? true : outcome.retry, false);
    });
  }
});

Deno.test("a builder that streams output during the claim is killed at the limit and refused", async () => {
  const runner = new FakeRunner([{ when: () => true, stdout: "y\n".repeat(1000), overflowed: true }]);
  const outcome = await claimBuilder({ ...testContext(), runner }, {
    sshConfig: "/c",
    alias: "b1",
    builderStateDir: "/tmp/dnb",
    claim: {},
  });
  assert.deepEqual(outcome, { ok: false, retry: false, reason: "it answered the claim with more than 65536 bytes" });
  assert.equal(runner.calls[0]?.maxOutputBytes, 64 * 1024);
});

Deno.test("a builder's own words in a retry reason come as one plain, bounded line", () => {
  const { reason } = classifyClaimFailure(1, `ok\nbad \r::stop-commands::x \u001b[2J\u202e${"z".repeat(1000)}`);
  assert.match(reason, /^bad \?::stop-commands::x \?\[2J\?z+…$/);
  assert.ok(reason.length <= 301);
});

Deno.test("ssh failures: a key mismatch or a policy refusal is final, a builder not yet up is retried", () => {
  assert.deepEqual(classifyClaimFailure(255, "Host key verification failed.\r\n"), {
    retry: false,
    reason: "its SSH host key does not match the key it advertised on the tailnet",
  });
  assert.equal(
    classifyClaimFailure(255, "tailscale: tailnet policy does not permit you to SSH to this node\nConnection closed")
      .retry,
    false,
  );
  assert.match(classifyClaimFailure(255, "# Tailscale SSH requires an additional check.").reason, /`check`/);
  assert.deepEqual(classifyClaimFailure(3, "dnb: no builder here: /tmp/dnb/info.json is missing"), {
    retry: true,
    reason: "it has not published info.json yet",
  });
  assert.equal(classifyClaimFailure(255, "ssh: connect to host 100.64.0.2 port 22: Connection refused").retry, true);
});
