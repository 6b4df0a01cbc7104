import assert from "node:assert/strict";
import { sshConfigLines, sshConfigTarget } from "../../lib/ssh/ssh_config.ts";

Deno.test("each builder gets a Host entry that pins its key under the alias and never prompts", () => {
  const lines = sshConfigLines([{ alias: "b1", address: "100.64.0.2", user: "root" }], "/tmp/dnb/known_hosts");
  assert.deepEqual(lines, [
    "Host b1",
    "  HostName 100.64.0.2",
    "  HostKeyAlias b1",
    "  User root",
    "  StrictHostKeyChecking yes",
    "  UserKnownHostsFile /tmp/dnb/known_hosts",
    "  GlobalKnownHostsFile /dev/null",
    "  UpdateHostKeys no",
    "  BatchMode yes",
    "  ConnectTimeout 10",
    "  ServerAliveInterval 5",
    "  ServerAliveCountMax 3",
    "  Compression no",
    "  ControlMaster no",
    "  ControlPath none",
    "  Ciphers aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
  ]);
});

Deno.test("with --ssh-key the entry names the key and offers no other", () => {
  const lines = sshConfigLines(
    [{ alias: "b2", address: "100.64.0.3", user: "nixremote", identityFile: "/root/.ssh/dnb" }],
    "/s/known_hosts",
  );
  assert.deepEqual(lines.slice(0, 6), [
    "Host b2",
    "  HostName 100.64.0.3",
    "  HostKeyAlias b2",
    "  User nixremote",
    "  IdentityFile /root/.ssh/dnb",
    "  IdentitiesOnly yes",
  ]);
});

Deno.test("entries go to the drop-in folder only when ssh_config includes it before any Host section", async (t) => {
  const cases: [string, string | undefined, string][] = [
    ["Debian's ssh_config", "Include /etc/ssh/ssh_config.d/*.conf\n\nHost *\n    SendEnv LANG LC_*\n", "drop-in"],
    ["macOS's ssh_config", "# comment\nInclude /etc/ssh/ssh_config.d/*\nHost *\n", "drop-in"],
    ["lower-case keyword", "include /etc/ssh/ssh_config.d/*.conf\n", "drop-in"],
    ["no ssh_config", undefined, "block"],
    ["no Include", "Host *\n  ForwardAgent no\n", "block"],
    ["Include inside a Host section", "Host *\nInclude /etc/ssh/ssh_config.d/*.conf\n", "block"],
    ["Include of another folder", "Include /etc/ssh/other.d/*\n", "block"],
  ];
  for (const [name, text, kind] of cases) {
    await t.step(name, () => {
      const target = sshConfigTarget(text);
      assert.equal(target.kind, kind);
      assert.equal(target.path, kind === "drop-in" ? "/etc/ssh/ssh_config.d/dnb.conf" : "/etc/ssh/ssh_config");
    });
  }
});

Deno.test("a value that ssh_config would read as syntax is refused and nothing is written", () => {
  const host = { alias: "b1", address: "100.64.0.2", user: "root" };
  const bad: [string, Parameters<typeof sshConfigLines>[0][number], RegExp][] = [
    ["alias with a pattern", { ...host, alias: "b1 *" }, /alias/],
    ["alias with a newline", { ...host, alias: "b1\n  ProxyCommand sh -c id" }, /alias/],
    ["alias with a token", { ...host, alias: "%h" }, /alias/],
    ["address not IPv4", { ...host, address: "100.64.0.2 evil" }, /address/],
    ["address a name", { ...host, address: "example.com" }, /address/],
    ["user with a space", { ...host, user: "root x" }, /user/],
    ["identity file with a space", { ...host, identityFile: "/root/.ssh/id x" }, /identity file/],
  ];
  for (const [name, entry, field] of bad) {
    assert.throws(() => sshConfigLines([entry], "/tmp/dnb/known_hosts"), field, name);
  }
  assert.throws(() => sshConfigLines([host], "/tmp/dnb/known hosts"), /known_hosts path/);
});

Deno.test("a builder with an ssh master is reached through its socket; no entry ever starts a master", () => {
  const lines = sshConfigLines(
    [{ alias: "b1", address: "100.64.0.2", user: "root", controlPath: "/tmp/dnb/mux-b1" }],
    "/tmp/dnb/known_hosts",
  );
  assert.deepEqual(lines.filter((line) => line.includes("Control")), [
    "  ControlMaster no",
    "  ControlPath /tmp/dnb/mux-b1",
  ]);
  // ssh expands % tokens in ControlPath: a path that could carry one is refused, not written.
  assert.throws(
    () => sshConfigLines([{ alias: "b1", address: "100.64.0.2", user: "root", controlPath: "/tmp/%d/x" }], "/k"),
    /control path/,
  );
});
