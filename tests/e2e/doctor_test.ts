/**
 * `dnb doctor` on a farm host: real root, real single-user Nix, real df, on the tailnet the farm gets
 * (the real one wherever its binaries can be built: what doctor checks is the same on both).
 */
import assert from "node:assert/strict";
import { createFarm, type Farm } from "./harness/farm.ts";
import { exitWithin, runDnb, startBuilder } from "./harness/dnb.ts";
import { farmTest } from "./harness/prerequisites.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";
import { eventually } from "../support/eventually.ts";

/** Every file below the host folders dnb could change, with its content, to show doctor changes none. */
function snapshot(farm: Farm, host: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else files[path] = entry.isFile ? Deno.readTextFileSync(path) : "(not a file)";
    }
  };
  for (const sub of ["etc-nix", "ssh_config.d", "root-ssh", "tmp"]) walk(`${farm.host(host).dir}/${sub}`);
  return files;
}

function lineOf(stdout: string, check: string): string {
  const line = stdout.split("\n").find((text) => text.slice(5).startsWith(`${check}:`));
  assert.ok(line, `no ${check} line in:\n${stdout}`);
  return line;
}

interface Check {
  readonly name: string;
  readonly status: string;
  readonly message: string;
}

farmTest(
  "doctor on a farm host: root and Nix found; off the tailnet it fails, once the builder joined it passes",
  async () => {
    await using farm = await createFarm({ hosts: [{ name: "b1" }] });
    const before = snapshot(farm, "b1");
    const offline = await runDnb(farm, "b1", ["doctor"]);
    assert.equal(offline.code, 1, `${offline.stdout}${offline.stderr}`);
    assert.equal(offline.stderr, "");
    const out = offline.stdout;
    assert.equal(lineOf(out, "root"), "ok   root:          running as root");
    assert.match(
      lineOf(out, "nix"),
      /^warn nix: +Nix \d+\.\d+\S*, single-user \(no daemon socket at \/nix\/var\/nix\/daemon-socket\/socket\); fix: /,
    );
    assert.equal(lineOf(out, "nix.conf"), "ok   nix.conf:      dnb's block goes in /etc/nix/nix.conf");
    assert.equal(lineOf(out, "trusted-users"), "ok   trusted-users: root trusted (trusted-users = root)");
    // The machine's own /dev/kvm shows through (or not): never a failure.
    assert.match(lineOf(out, "kvm"), /^(ok {3}|warn )kvm: /);
    assert.match(lineOf(out, "disk"), /^(ok {3}|warn )disk: +\d+\.\d GiB free on \/nix/);
    assert.match(
      lineOf(out, "tailscale"),
      /^fail tailscale: +not logged in: no tailscaled answers \(failed to connect to local tailscaled; it doesn't appear to be running \(sudo systemctl start tailscaled \?\)\), and no auth key is set; fix: set TS_AUTHKEY/,
    );
    assert.match(
      lineOf(out, "tailnet-acl"),
      /^skip tailnet-acl: +tag ownership not checked: it needs a Tailscale API token; verify: /,
    );
    assert.equal(out.trimEnd().split("\n").length, 8);
    assert.deepEqual(snapshot(farm, "b1"), before, "doctor changed nothing");

    const builder = startBuilder(farm, "b1");
    try {
      await eventually("b1 logged in", async () => {
        const status = await farm.run("b1", ["tailscale", "--socket=/tmp/dnb/tailscaled.sock", "status", "--json"]);
        return status.code === 0 && parseStatus(status.stdout).backendState === "Running";
      }, 60_000);
      const joined = await runDnb(farm, "b1", ["doctor", "--json"]);
      assert.equal(joined.code, 0, `${joined.stdout}${joined.stderr}`);
      const report = JSON.parse(joined.stdout) as { version: number; status: string; checks: Check[] };
      assert.equal(report.version, 1);
      assert.equal(report.status, "warn", "single-user Nix stays a warning");
      const tailscale = report.checks.find((check) => check.name === "tailscale");
      assert.equal(tailscale?.status, "ok");
      // Its tailnet address: Headscale's 100.64.0.0/10 on the real tailnet, the LAN address on the double.
      const address = farm.kind === "real" ? "100\\.64\\.\\d+\\.\\d+" : farm.host("b1").address.replaceAll(".", "\\.");
      assert.match(
        tailscale?.message ?? "",
        new RegExp(`^b1 \\(${address}\\), tags tag:nix-builder, dnb's tailscaled \\(/tmp/dnb/tailscaled\\.sock\\)$`),
      );
      const acl = report.checks.find((check) => check.name === "tailnet-acl");
      assert.equal(acl?.status, "skip");
      assert.match(acl?.message ?? "", /this node's tags \(tag:nix-builder\) were accepted at login$/);
      assert.deepEqual(report.checks.filter((check) => check.status === "fail"), []);
    } finally {
      builder.kill();
      await exitWithin(builder, 30_000);
    }
  },
);
