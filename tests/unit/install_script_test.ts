/** scripts/install-dnb.sh, the action's download step, against a local HTTP server with test assets. */
import assert from "node:assert/strict";
import { fromFileUrl } from "../support/paths.ts";
import { sha256Hex } from "../../lib/tailnet/install.ts";
import { actionsEnv } from "../support/github.ts";

const SCRIPT = fromFileUrl(new URL("../../scripts/install-dnb.sh", import.meta.url));
const PLATFORMS = [["Linux", "X64", "linux-x64"], ["Linux", "ARM64", "linux-arm64"], ["macOS", "X64", "darwin-x64"], [
  "macOS",
  "ARM64",
  "darwin-arm64",
]] as const;

/** A fake release binary per platform: a script that names its platform. */
const asset = (platform: string) => new TextEncoder().encode(`#!/bin/sh\necho dnb-test ${platform} "$@"\n`);

async function withRelease(
  test: (sandbox: string, baseUrl: string) => Promise<void>,
  options: { version?: string; sums?: (platform: string) => Promise<string> } = {},
) {
  const sandbox = Deno.makeTempDirSync({ prefix: "dnb-install-script-" });
  const served = new Map(PLATFORMS.map(([, , platform]) => [`/v0.9.0/dnb-${platform}`, asset(platform)]));
  served.delete("/v0.9.0/dnb-darwin-arm64"); // one asset missing from the release
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const body = served.get(new URL(request.url).pathname);
    return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response("Not Found", { status: 404 });
  });
  try {
    Deno.mkdirSync(`${sandbox}/action/release`, { recursive: true });
    if (options.version !== "") {
      Deno.writeTextFileSync(`${sandbox}/action/release/VERSION`, `${options.version ?? "v0.9.0"}\n`);
      const sums = await Promise.all(
        PLATFORMS.map(async ([, , platform]) =>
          `${await (options.sums ?? ((p) => sha256Hex(asset(p))))(platform)}  dnb-${platform}`
        ),
      );
      Deno.writeTextFileSync(`${sandbox}/action/release/SHA256SUMS`, sums.join("\n") + "\n");
    }
    await test(sandbox, `http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
    Deno.removeSync(sandbox, { recursive: true });
  }
}

async function install(sandbox: string, baseUrl: string, os: string, arch: string) {
  const output = await new Deno.Command("bash", {
    args: [SCRIPT],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH")!,
      DNB_RUNNER_OS: os,
      DNB_RUNNER_ARCH: arch,
      DNB_ACTION_PATH: `${sandbox}/action`,
      DNB_INSTALL_DIR: `${sandbox}/bin-${os}-${arch}`,
      DNB_DOWNLOAD_BASE: baseUrl,
      ...actionsEnv({ path: `${sandbox}/github_path`, output: `${sandbox}/github_output` }),
    },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    dir: `${sandbox}/bin-${os}-${arch}`,
  };
}

Deno.test("each supported runner gets its own verified binary, on PATH, with stop-nix-builders beside it", async () => {
  await withRelease(async (sandbox, baseUrl) => {
    for (const [os, arch, platform] of PLATFORMS.slice(0, 3)) {
      const result = await install(sandbox, baseUrl, os, arch);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`dnb install: dnb v0\\.9\\.0 for ${platform}, sha256 [0-9a-f]{64}`));
      const run = await new Deno.Command(`${result.dir}/dnb`, { args: ["--version"] }).output();
      assert.equal(new TextDecoder().decode(run.stdout), `dnb-test ${platform} --version\n`);
      assert.equal(Deno.readLinkSync(`${result.dir}/stop-nix-builders`), "dnb");
      assert.deepEqual([...Deno.readDirSync(result.dir)].map((entry) => entry.name).sort(), [
        "dnb",
        "stop-nix-builders",
      ]);
    }
    assert.equal(Deno.readTextFileSync(`${sandbox}/github_path`).trim().split("\n").length, 3);
    assert.match(Deno.readTextFileSync(`${sandbox}/github_output`), /^path=.*\/bin-Linux-X64\/dnb$/m);
  });
});

Deno.test("an asset missing from the release fails with a clear line and installs nothing", async () => {
  await withRelease(async (sandbox, baseUrl) => {
    const result = await install(sandbox, baseUrl, "macOS", "ARM64");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^dnb install: no dnb-darwin-arm64 in release v0\.9\.0 \(.* answered HTTP 404\)$/m);
    // On Actions the same line is an annotation on the step.
    assert.match(result.stdout, /^::error::dnb install: no dnb-darwin-arm64 in release v0\.9\.0 /m);
    assert.deepEqual([...Deno.readDirSync(result.dir)], []);
  });
});

Deno.test("a checksum that does not match the pinned one fails and leaves nothing behind", async () => {
  await withRelease(async (sandbox, baseUrl) => {
    const result = await install(sandbox, baseUrl, "Linux", "X64");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^dnb install: dnb-linux-x64 has sha256 [0-9a-f]{64}, expected 0{64} \(pinned at this ref\); not installed$/m,
    );
    assert.deepEqual([...Deno.readDirSync(result.dir)], []);
  }, { sums: () => Promise.resolve("0".repeat(64)) });
});

Deno.test("unsupported runners are refused by name", async (t) => {
  await withRelease(async (sandbox, baseUrl) => {
    for (const [os, arch] of [["Windows", "X64"], ["Linux", "ARM"], ["macOS", "X86"]]) {
      await t.step(`${os}/${arch}`, async () => {
        const result = await install(sandbox, baseUrl, os!, arch!);
        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          new RegExp(`unsupported runner ${os}/${arch}: dnb runs on Linux and macOS, x64 and arm64`),
        );
      });
    }
  });
});

Deno.test("a ref that pins no release runs dnb from source with a pinned Deno", async () => {
  await withRelease(async (sandbox, baseUrl) => {
    const result = await install(sandbox, baseUrl, "Linux", "X64");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no release is pinned at this ref; running dnb from source with Deno 2\.9\.6/);
    const shim = Deno.readTextFileSync(`${result.dir}/dnb`);
    assert.equal(
      shim,
      `#!/bin/sh\nexec npx -y deno@2.9.6 run -A --frozen --config "${sandbox}/action/deno.json" "${sandbox}/action/main.ts" "$@"\n`,
    );
    assert.match(Deno.readTextFileSync(`${result.dir}/stop-nix-builders`), /main\.ts" stop "\$@"\n$/);
  }, { version: "" });
});
