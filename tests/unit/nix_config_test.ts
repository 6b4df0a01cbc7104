import assert from "node:assert/strict";
import { nixConfBlockBody, nixConfIncludes, nixConfTarget, settingsSetOutsideBlock } from "../../lib/nix/conf.ts";

Deno.test("the nix.conf block points Nix at the machines file, polls each second, then adds the user's lines", () => {
  const dnb = ["builders = @/etc/nix/machines", "builders-use-substitutes = true", "build-poll-interval = 1"];
  assert.deepEqual(nixConfBlockBody([]), dnb);
  // The user's lines come last, so a `build-poll-interval` of theirs wins over dnb's.
  assert.deepEqual(nixConfBlockBody(["max-jobs = 0", "extra-substituters = https://c.example"]), [
    ...dnb,
    "max-jobs = 0",
    "extra-substituters = https://c.example",
  ]);
});

Deno.test("dnb writes nix.custom.conf when nix.conf includes it (Determinate), else nix.conf", async (t) => {
  const cases: [string, string | undefined, string][] = [
    ["no nix.conf", undefined, "/etc/nix/nix.conf"],
    ["plain nix.conf", "sandbox = true\n", "/etc/nix/nix.conf"],
    [
      "Determinate's !include",
      "extra-experimental-features = nix-command\n!include nix.custom.conf\n",
      "/etc/nix/nix.custom.conf",
    ],
    ["absolute include", "include /etc/nix/nix.custom.conf", "/etc/nix/nix.custom.conf"],
    ["include of another file", "!include other.conf\n", "/etc/nix/nix.conf"],
    ["commented include", "# !include nix.custom.conf\n", "/etc/nix/nix.conf"],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assert.deepEqual(nixConfTarget(text), expected));
  }
});

Deno.test("settingsSetOutsideBlock finds builders set by someone else, not by dnb", () => {
  const text =
    "builders = \n# >>> dnb >>>\nbuilders = @/etc/nix/machines\nbuilders-use-substitutes = true\n# <<< dnb <<<\n";
  assert.deepEqual(settingsSetOutsideBlock(text, ["builders", "builders-use-substitutes"]), ["builders"]);
  assert.deepEqual(settingsSetOutsideBlock("max-jobs = 1\n", ["builders"]), []);
});

Deno.test("nix.conf's includes resolve against /etc/nix, and only `!include` is optional", () => {
  assert.deepEqual(
    nixConfIncludes("sandbox = true\n!include nix.custom.conf\n  include /opt/nix/extra.conf\n# include no.conf\n"),
    [
      { path: "/etc/nix/nix.custom.conf", optional: true },
      { path: "/opt/nix/extra.conf", optional: false },
    ],
  );
  assert.deepEqual(nixConfIncludes(""), []);
});
