/**
 * The builder side of the protocol, run by real shells: whatever arrives on stdin, the fixed scripts
 * write only `claim`, `lease` and `done`, and only in a folder that holds a builder's info.json.
 */
import assert from "node:assert/strict";
import { CLAIM_SCRIPT, DONE_SCRIPT, HEARTBEAT_SCRIPT } from "../../lib/protocol/scripts.ts";
import { listTree } from "../support/tree.ts";

const SHELLS = ["sh", "bash"];
const INFO = '{"version":1}';

/** A sandbox with a builder's state folder and a folder beside it that must stay untouched. */
function sandbox(): { root: string; state: string; outside: string } {
  const root = Deno.makeTempDirSync({ prefix: "dnb-protocol-" });
  Deno.mkdirSync(`${root}/state`);
  Deno.mkdirSync(`${root}/outside`);
  Deno.writeTextFileSync(`${root}/state/info.json`, INFO);
  return { root, state: `${root}/state`, outside: `${root}/outside` };
}

/** What sshd sets for a session: the client's address, its port and the server's port. */
const SSH_CLIENT = "100.64.0.10 51234 22";

async function runScript(shell: string, script: string, stdin: string, cwd: string) {
  const child = new Deno.Command(shell, {
    args: ["-c", script],
    cwd,
    env: { SSH_CLIENT },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

const HOSTILE_CLAIMS = [
  "$(touch ../outside/pwned)",
  "`touch ../outside/pwned`",
  '"; touch ../outside/pwned; echo "',
  "'; touch ../outside/pwned #",
  "-n $(touch pwned)",
  "%s%n\\c",
];

Deno.test("a claim writes only claim and lease, verbatim, whatever the claim line holds", async (t) => {
  for (const shell of SHELLS) {
    for (const claim of HOSTILE_CLAIMS) {
      await t.step(`${shell}: ${claim}`, async () => {
        const box = sandbox();
        try {
          const result = await runScript(
            shell,
            CLAIM_SCRIPT,
            `${box.state}\n${claim}\ntouch ../outside/pwned\n`,
            box.root,
          );
          assert.equal(result.code, 0);
          assert.equal(result.stdout, INFO);
          assert.deepEqual(listTree(box.root), ["outside", "state", "state/claim", "state/info.json", "state/lease"]);
          // The claim verbatim, then the claimer's address as sshd gave it, for the builder to check.
          assert.equal(Deno.readTextFileSync(`${box.state}/claim`), `${claim}\nclient 100.64.0.10\n`);
        } finally {
          Deno.removeSync(box.root, { recursive: true });
        }
      });
    }
  }
});

Deno.test("no script writes in a folder that is not a builder's state folder", async (t) => {
  const scripts = { claim: CLAIM_SCRIPT, heartbeat: HEARTBEAT_SCRIPT, done: DONE_SCRIPT };
  for (const shell of SHELLS) {
    for (const [name, script] of Object.entries(scripts)) {
      for (const target of ["outside", "state/../outside", "outside/missing"]) {
        await t.step(`${shell}: ${name} aimed at ${target}`, async () => {
          const box = sandbox();
          try {
            const before = listTree(box.root);
            const result = await runScript(shell, script, `${box.root}/${target}\n{}\n`, box.root);
            assert.notEqual(result.code, 0);
            assert.deepEqual(listTree(box.root), before);
          } finally {
            Deno.removeSync(box.root, { recursive: true });
          }
        });
      }
    }
  }
});

Deno.test("a heartbeat renews only a claimed builder; done marks only a builder", async () => {
  const box = sandbox();
  try {
    const unclaimed = await runScript("sh", HEARTBEAT_SCRIPT, `${box.state}\n`, box.root);
    assert.equal(unclaimed.code, 4);
    assert.deepEqual(listTree(box.state), ["info.json"]);
    Deno.writeTextFileSync(`${box.state}/claim`, "{}\n");
    assert.equal((await runScript("sh", HEARTBEAT_SCRIPT, `${box.state}\n`, box.root)).code, 0);
    assert.equal((await runScript("sh", DONE_SCRIPT, `${box.state}\n`, box.root)).code, 0);
    assert.deepEqual(listTree(box.state), ["claim", "done", "info.json", "lease"]);
  } finally {
    Deno.removeSync(box.root, { recursive: true });
  }
});

Deno.test("heartbeat and done print the builder's usage reading as is, and write nothing more", async (t) => {
  const reading = '{"version":1,"derivations":"$(touch ../outside/pwned)"}\n';
  const cases = [["heartbeat", HEARTBEAT_SCRIPT, "lease"], ["done", DONE_SCRIPT, "done"]] as const;
  for (const [name, script, written] of cases) {
    await t.step(name, async () => {
      const box = sandbox();
      try {
        Deno.writeTextFileSync(`${box.state}/claim`, "{}\n");
        const silent = await runScript("sh", script, `${box.state}\n`, box.root);
        assert.deepEqual(silent, { code: 0, stdout: "" });
        Deno.writeTextFileSync(`${box.state}/usage.json`, reading);
        const result = await runScript("sh", script, `${box.state}\n`, box.root);
        assert.deepEqual(result, { code: 0, stdout: reading });
        assert.deepEqual(
          listTree(box.root),
          ["outside", "state", "state/claim", `state/${written}`, "state/info.json", "state/usage.json"].sort(),
        );
      } finally {
        Deno.removeSync(box.root, { recursive: true });
      }
    });
  }
});
