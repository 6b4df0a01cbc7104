import assert from "node:assert/strict";
import { blockBody, removeBlock, upsertBlock } from "../../lib/core/managed_block.ts";

const body = ["builders = @/etc/nix/machines", "builders-use-substitutes = true"];
const block = "# >>> dnb >>>\nbuilders = @/etc/nix/machines\nbuilders-use-substitutes = true\n# <<< dnb <<<";

Deno.test("upsertBlock appends at the end and removeBlock gives the file back byte for byte", async (t) => {
  const cases: [string, string, string][] = [
    ["empty file", "", `${block}\n`],
    ["file with a final newline", "sandbox = false\n", `sandbox = false\n${block}\n`],
    ["file without a final newline", "sandbox = false", `sandbox = false\n${block}`],
    ["file ending in a blank line", "a = 1\n\n", `a = 1\n\n${block}\n`],
    ["file setting builders already", "builders = \nmax-jobs = 4\n", `builders = \nmax-jobs = 4\n${block}\n`],
  ];
  for (const [name, original, expected] of cases) {
    await t.step(name, () => {
      const withBlock = upsertBlock(original, body, "end");
      assert.deepEqual(withBlock, expected);
      assert.deepEqual(removeBlock(withBlock), original);
    });
  }
});

Deno.test("upsertBlock at the start puts the block before everything", () => {
  const original = "Include /etc/ssh/ssh_config.d/*.conf\nHost *\n  SendEnv LANG\n";
  const withBlock = upsertBlock(original, ["Host b1", "  HostName 100.64.0.2"], "start");
  assert.deepEqual(withBlock, `# >>> dnb >>>\nHost b1\n  HostName 100.64.0.2\n# <<< dnb <<<\n${original}`);
  assert.deepEqual(removeBlock(withBlock), original);
  assert.deepEqual(removeBlock(upsertBlock("", ["x"], "start")), "");
});

Deno.test("re-running replaces the block in place and never duplicates it", () => {
  const original = "a = 1\n";
  const first = upsertBlock(original, body, "end") + "user-line = 2\n";
  const second = upsertBlock(first, ["builders = @/etc/nix/machines", "max-jobs = 0"], "end");
  assert.deepEqual(
    second,
    "a = 1\n# >>> dnb >>>\nbuilders = @/etc/nix/machines\nmax-jobs = 0\n# <<< dnb <<<\nuser-line = 2\n",
  );
  assert.deepEqual(upsertBlock(second, ["builders = @/etc/nix/machines", "max-jobs = 0"], "end"), second);
  assert.deepEqual(removeBlock(second), "a = 1\nuser-line = 2\n");
});

Deno.test("re-running on a file without a final newline keeps it that way", () => {
  const once = upsertBlock("a = 1", body, "end");
  const twice = upsertBlock(once, ["x = y"], "end");
  assert.deepEqual(twice, "a = 1\n# >>> dnb >>>\nx = y\n# <<< dnb <<<");
  assert.deepEqual(removeBlock(twice), "a = 1");
});

Deno.test("an empty block body round-trips", () => {
  const withBlock = upsertBlock("a\n", [], "end");
  assert.deepEqual(withBlock, "a\n# >>> dnb >>>\n# <<< dnb <<<\n");
  assert.deepEqual(blockBody(withBlock), []);
  assert.deepEqual(removeBlock(withBlock), "a\n");
});

Deno.test("removeBlock leaves text without a block, and a lone marker, alone", () => {
  for (const text of ["", "a = 1\n", "# >>> dnb >>>\na = 1\n", "x # >>> dnb >>>\n# <<< dnb <<<\n"]) {
    assert.deepEqual(removeBlock(text), text);
  }
});

Deno.test("blockBody reads back what upsertBlock wrote", () => {
  assert.deepEqual(blockBody(upsertBlock("a = 1\n", body, "end")), body);
  assert.deepEqual(blockBody("a = 1\n"), undefined);
});
