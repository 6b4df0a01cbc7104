import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type MachineEntry, machinesFile, machinesLine, machinesLineTemplate } from "../../lib/nix/machines_file.ts";

const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2dJWlrk3nCpImBsSZ5mCRaW2Fq8vA0rQ3y4nQn0aX1";
const b1: MachineEntry = {
  sshUser: "root",
  alias: "b1",
  nixDaemon: "/nix/var/nix/profiles/default/bin/nix-daemon",
  systems: ["x86_64-linux", "i686-linux"],
  cores: 4,
  jobsPerCore: 2,
  features: ["benchmark", "big-parallel", "kvm", "nixos-test"],
  mandatoryFeatures: [],
  hostKey,
};

Deno.test("machinesLine writes all eight fields in Nix's order", () => {
  assert.deepEqual(
    machinesLine(b1),
    "ssh-ng://root@b1?remote-program=/nix/var/nix/profiles/default/bin/nix-daemon x86_64-linux,i686-linux - 8 4 " +
      "benchmark,big-parallel,kvm,nixos-test - " +
      "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUwyZEpXbHJrM25DcEltQnNTWjVtQ1JhVzJGcTh2QTByUTN5NG5RbjBhWDE=",
  );
});

Deno.test("the host key field decodes to the advertised key, which Nix writes into its known_hosts", () => {
  const field = machinesLine(b1).split(" ")[7]!;
  assert.deepEqual(Buffer.from(field, "base64").toString(), hostKey);
});

Deno.test("empty lists become '-', an ssh key and mandatory features fill their fields", () => {
  const line = machinesLine({
    ...b1,
    alias: "mac",
    systems: ["aarch64-darwin"],
    sshKey: "/root/.ssh/dnb",
    cores: 3,
    jobsPerCore: 1,
    features: [],
    mandatoryFeatures: ["benchmark"],
  });
  assert.deepEqual(line.split(" ").slice(0, 7), [
    "ssh-ng://root@mac?remote-program=/nix/var/nix/profiles/default/bin/nix-daemon",
    "aarch64-darwin",
    "/root/.ssh/dnb",
    "3",
    "3",
    "-",
    "benchmark",
  ]);
});

Deno.test("machinesLine refuses fields that would split the line", () => {
  assert.throws(() => machinesLine({ ...b1, nixDaemon: "/opt/my nix/nix-daemon" }), /nix-daemon path .* grammar/);
  assert.throws(() => machinesLine({ ...b1, systems: [] }), /has no system/);
  assert.throws(() => machinesLine({ ...b1, cores: 0 }), /has no cores/);
});

Deno.test("machinesFile has dnb's header and one line per builder", () => {
  const text = machinesFile([b1, { ...b1, alias: "b2", systems: ["aarch64-linux"] }]);
  const lines = text.split("\n");
  assert.deepEqual(lines.length, 4);
  assert.deepEqual(lines[0], "# Written by dnb. `dnb stop` puts back what was here before.");
  assert.deepEqual(lines[2]!.split(" ").slice(0, 2), [
    "ssh-ng://root@b2?remote-program=/nix/var/nix/profiles/default/bin/nix-daemon",
    "aarch64-linux",
  ]);
  assert.deepEqual(lines[3], "");
});

Deno.test("the dry-run template shows each field's source", () => {
  assert.deepEqual(
    machinesLineTemplate("root", "b1", undefined, 2),
    "ssh-ng://root@b1?remote-program=<nix-daemon-path> <systems> - <cores×2> <cores> <features|-> - <base64 host key>",
  );
});

Deno.test("read the way Nix reads it (rows split on newline and ';', '#' starts a comment), the file holds exactly its machines", () => {
  const text = machinesFile([b1, { ...b1, alias: "b2", systems: ["aarch64-linux"] }]);
  const rows = text.split(/[\n;]/).map((row) => row.replace(/#.*/, "").trim()).filter((row) => row !== "");
  assert.deepEqual(rows, [machinesLine(b1), machinesLine({ ...b1, alias: "b2", systems: ["aarch64-linux"] })]);
});

Deno.test("machinesLine refuses what Nix would read as machines-file or store-URI syntax, whatever got past the parser", () => {
  const bad: [string, Partial<MachineEntry>, RegExp][] = [
    ["an include", { nixDaemon: "/nix/store/x;@/etc/shadow#" }, /nix-daemon path/],
    ["a store-URI parameter", { nixDaemon: "/bin/nix-daemon&ssh-key=/etc/shadow" }, /nix-daemon path/],
    ["a comment", { nixDaemon: "/bin/nix-daemon#" }, /nix-daemon path/],
    ["an alias with a query", { alias: "b1?remote-program=/bin/sh" }, /alias/],
    ["a user with an at", { sshUser: "root@evil" }, /ssh user/],
    ["a system of another kind", { systems: ["x86_64-linux;@/etc/shadow"] }, /system/],
    ["a feature with a comma", { features: ["kvm,benchmark"] }, /feature/],
    ["a mandatory feature with a semicolon", { mandatoryFeatures: ["x;y"] }, /feature/],
    ["an ssh key with a space", { sshKey: "/root/.ssh/id x" }, /ssh key path/],
    ["a host key with a second key", { hostKey: `${hostKey}\nssh-ed25519 AAAA` }, /host key/],
    ["fractional cores", { cores: 1.5 }, /has no cores/],
  ];
  for (const [name, change, field] of bad) assert.throws(() => machinesLine({ ...b1, ...change }), field, name);
});
