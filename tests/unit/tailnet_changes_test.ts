import assert from "node:assert/strict";
import { TailnetChanges, watchIpnArgv } from "../../lib/tailnet/changes.ts";
import { FakeRunner } from "../support/fake_runner.ts";

/** A sleep that never ends: only an event (or another promise) can end the wait. */
const never = { sleep: () => new Promise<void>(() => {}) };
/** A sleep that ends at once: the wait is its timeout. */
const instant = { sleep: () => Promise.resolve() };

function started() {
  const runner = new FakeRunner();
  const changes = TailnetChanges.start({ runner }, "/usr/bin/tailscale", "/tmp/dnb/tailscaled.sock");
  const emit = (line: string) => runner.watched[0]!.onLine(line);
  return { runner, changes, emit };
}

Deno.test("watch-ipn runs against dnb's daemon, without the netmap and without the 3 s rate limit", () => {
  assert.deepEqual(watchIpnArgv("/usr/bin/tailscale", "/tmp/dnb/tailscaled.sock"), [
    "/usr/bin/tailscale",
    "--socket=/tmp/dnb/tailscaled.sock",
    "debug",
    "watch-ipn",
    "--netmap=false",
    "--rate-limit=false",
  ]);
  const { runner } = started();
  assert.deepEqual(runner.watched.map((spec) => spec.argv), [
    watchIpnArgv("/usr/bin/tailscale", "/tmp/dnb/tailscaled.sock"),
  ]);
});

Deno.test("a wait ends at an event's closing line, and only there", async () => {
  const { changes, emit } = started();
  let woke = false;
  const waiting = changes.next(never, 1000).then(() => (woke = true));
  for (const line of ["{", '\t"State": 6', '\t"Health": {', "\t}"]) emit(line);
  await Promise.resolve();
  assert.equal(woke, false, "woke before the event closed");
  emit("}");
  await waiting;
  assert.equal(woke, true);
  // `{}` is a whole event on one line (a netmap change with the netmap left out).
  const again = changes.next(never, 1000);
  emit("{}");
  await again;
});

Deno.test("an event that came between waits ends the next wait at once; it is answered only once", async () => {
  const { changes, emit } = started();
  emit("}");
  await changes.next(never, 1000);
  let woke = false;
  changes.next(never, 1000).then(() => (woke = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(woke, false, "the same event answered two waits");
});

Deno.test("a claim settling ends the wait too; with no event it lasts its timeout", async () => {
  const { changes } = started();
  await changes.next(never, 1000, Promise.resolve());
  await changes.next(instant, 1000);
});

Deno.test("once the stream ends, waits are timed only", async () => {
  const { runner, changes } = started();
  runner.endWatch(0);
  await changes.next(never, 1000); // The end itself wakes the waiter once.
  assert.equal(changes.live, false);
  let woke = false;
  changes.next(never, 1000).then(() => (woke = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(woke, false);
  await changes.next(instant, 1000);
});

Deno.test("stop ends the watch", async () => {
  const { changes } = started();
  changes.stop();
  await changes.next(never, 1000);
  assert.equal(changes.live, false);
});
