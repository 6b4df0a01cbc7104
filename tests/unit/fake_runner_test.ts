import assert from "node:assert/strict";
import { argvIs, FakeRunner, takeUnscripted, UnscriptedCommandError } from "../support/fake_runner.ts";

Deno.test("the fake runner replays what a test scripted, and a bare `when` is a silent success", async () => {
  const runner = new FakeRunner([
    { when: argvIs("id", "-u"), stdout: "0\n" },
    { when: argvIs("true") },
    { when: (argv) => argv[0] === "false", code: 1, stderr: "no" },
  ]);
  assert.deepEqual(await runner.run({ argv: ["id", "-u"], timeoutMs: 1 }), {
    argv: ["id", "-u"],
    code: 0,
    stdout: "0\n",
    stderr: "",
    timedOut: false,
  });
  assert.equal((await runner.run({ argv: ["true"], timeoutMs: 1 })).code, 0);
  assert.equal((await runner.run({ argv: ["false", "x"], timeoutMs: 1 })).code, 1);
  assert.deepEqual(runner.unscripted, []);
});

Deno.test("the fake runner refuses a command nobody scripted, names its argv, and remembers it", async () => {
  const runner = new FakeRunner([{ when: argvIs("id", "-u") }]);
  await assert.rejects(
    runner.run({ argv: ["id", "-u", "extra"], timeoutMs: 1 }),
    (error: unknown) =>
      error instanceof UnscriptedCommandError &&
      error.message.includes('["id","-u","extra"]') && error.argv.join(" ") === "id -u extra",
  );
  assert.deepEqual(runner.unscripted, [["id", "-u", "extra"]]);
  assert.deepEqual(runner.calls.map((call) => call.argv), [["id", "-u", "extra"]]);
  // Made on purpose here; left behind, it would fail this test when it ends, even had the error been caught.
  assert.deepEqual(takeUnscripted(), [["id", "-u", "extra"]]);
  assert.deepEqual(takeUnscripted(), []);
});
