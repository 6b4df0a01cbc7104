/**
 * The real tailnet's control server: Headscale with its embedded DERP relay, served over TLS by a
 * certificate of a CA the farm makes for itself (hosts trust it through their own
 * /etc/ssl/certs), on the farm's switch at CONTROL_ADDRESS. The policy is the one the README tells
 * Headscale users to write. The harness drives it through its CLI on a unix socket.
 */
import { DenoRunner } from "../../../lib/core/exec.ts";
import { fromFileUrl } from "../../support/paths.ts";

export const CONTROL_ADDRESS = "10.77.0.1";
export const CONTROL_URL = `https://${CONTROL_ADDRESS}`;
/** Headscale's floor for the ephemeral inactivity timeout is 65 s; the farm's default keeps nodes for the whole test. */
export const MIN_INACTIVITY_TIMEOUT_SECONDS = 66;

const runner = new DenoRunner();
const README = fromFileUrl(new URL("../../../README.md", import.meta.url));
const POLICY_MARKER = "<!-- headscale-policy -->";

/** The policy block that follows the marker in the README: what Headscale users are told to write. */
export function readmePolicy(readme = Deno.readTextFileSync(README)): string {
  const after = readme.indexOf(POLICY_MARKER);
  const block = after < 0 ? null : readme.slice(after).match(/```json\n([\s\S]*?)```/);
  if (!block) throw new Error(`README.md has no json block after ${POLICY_MARKER}`);
  return block[1]!;
}

export interface HeadscaleNode {
  readonly id: string;
  readonly hostName: string;
  readonly givenName: string;
  readonly ipv4: string;
  readonly tags: readonly string[];
  readonly online: boolean;
}

interface RawNode {
  id?: string | number;
  name?: string;
  given_name?: string;
  ip_addresses?: string[];
  tags?: string[];
  forced_tags?: string[];
  valid_tags?: string[];
  online?: boolean;
}

export function parseNodes(json: string): HeadscaleNode[] {
  const raw = JSON.parse(json) as RawNode[] | null;
  return (raw ?? []).map((node) => ({
    id: String(node.id ?? ""),
    hostName: node.name ?? "",
    givenName: node.given_name ?? "",
    ipv4: (node.ip_addresses ?? []).find((address) => address.includes(".")) ?? "",
    tags: [...new Set([...(node.tags ?? []), ...(node.forced_tags ?? []), ...(node.valid_tags ?? [])])],
    online: node.online === true,
  }));
}

async function must(argv: string[], timeoutMs = 20_000): Promise<string> {
  const result = await runner.run({ argv, timeoutMs });
  if (result.code !== 0) throw new Error(`headscale: ${argv.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** A CA and a leaf for CONTROL_ADDRESS, made with openssl; the CA's certificate is what hosts trust. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await must([
    "openssl",
    "req",
    "-x509",
    ...ec,
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    `${dir}/ca.pem`,
    "-days",
    "3",
    "-subj",
    "/CN=dnb farm CA",
  ]);
  await must([
    "openssl",
    "req",
    ...ec,
    "-keyout",
    `${dir}/tls.key`,
    "-out",
    `${dir}/tls.csr`,
    "-subj",
    `/CN=${CONTROL_ADDRESS}`,
  ]);
  Deno.writeTextFileSync(`${dir}/tls.ext`, `subjectAltName=IP:${CONTROL_ADDRESS}\nextendedKeyUsage=serverAuth\n`);
  await must([
    "openssl",
    "x509",
    "-req",
    "-in",
    `${dir}/tls.csr`,
    "-CA",
    `${dir}/ca.pem`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-days",
    "3",
    "-extfile",
    `${dir}/tls.ext`,
    "-out",
    `${dir}/tls.pem`,
  ]);
}

function config(dir: string, inactivityTimeoutSeconds: number): string {
  return JSON.stringify(
    {
      server_url: CONTROL_URL,
      listen_addr: `${CONTROL_ADDRESS}:443`,
      metrics_listen_addr: "127.0.0.1:9090",
      grpc_listen_addr: "127.0.0.1:50443",
      tls_cert_path: `${dir}/tls.pem`,
      tls_key_path: `${dir}/tls.key`,
      noise: { private_key_path: `${dir}/noise_private.key` },
      prefixes: { v4: "100.64.0.0/10", v6: "fd7a:115c:a1e0::/48", allocation: "sequential" },
      derp: {
        server: {
          enabled: true,
          region_id: 999,
          region_code: "headscale",
          region_name: "farm relay",
          stun_listen_addr: "0.0.0.0:3478",
          private_key_path: `${dir}/derp_server_private.key`,
          automatically_add_embedded_derp_region: true,
        },
        // A DERP map URL that fails to load stops Headscale, and the farm reaches nothing outside.
        urls: [],
        paths: [],
        auto_update_enabled: false,
      },
      disable_check_updates: true,
      node: { expiry: 0, ephemeral: { inactivity_timeout: `${inactivityTimeoutSeconds}s` } },
      database: { type: "sqlite", sqlite: { path: `${dir}/db.sqlite`, write_ahead_log: true } },
      policy: { mode: "file", path: `${dir}/policy.hujson` },
      // Defaults to overriding the hosts' DNS, which with no nameservers stops Headscale.
      dns: { magic_dns: true, base_domain: "tailnet.test", override_local_dns: false, nameservers: { global: [] } },
      unix_socket: `${dir}/headscale.sock`,
      unix_socket_permission: "0770",
      log: { level: "info" },
    },
    null,
    2,
  );
}

export interface KeyOptions {
  readonly tags: readonly string[];
  readonly reusable?: boolean;
  readonly ephemeral?: boolean;
  readonly expiration?: string;
}

export class Headscale {
  readonly dir: string;
  readonly binary: string;

  constructor(dir: string, binary: string) {
    this.dir = dir;
    this.binary = binary;
  }

  get caCertificate(): string {
    return `${this.dir}/ca.pem`;
  }

  get configPath(): string {
    return `${this.dir}/config.json`;
  }

  get policyPath(): string {
    return `${this.dir}/policy.hujson`;
  }

  /** Writes certificates, config and policy; returns the argv that serves it (the farm starts it in its switch). */
  async prepare(inactivityTimeoutSeconds: number, policy: string): Promise<string[]> {
    Deno.mkdirSync(this.dir, { recursive: true });
    await makeCertificates(this.dir);
    Deno.writeTextFileSync(this.configPath, config(this.dir, inactivityTimeoutSeconds));
    Deno.writeTextFileSync(this.policyPath, policy);
    return [this.binary, "-c", this.configPath, "serve"];
  }

  cli(args: readonly string[], timeoutMs = 20_000): Promise<string> {
    return must([this.binary, "-c", this.configPath, ...args], timeoutMs);
  }

  async ready(): Promise<boolean> {
    const result = await runner.run({ argv: [this.binary, "-c", this.configPath, "users", "list"], timeoutMs: 5000 });
    return result.code === 0;
  }

  /** A pre-auth key (`hskey-auth-…`) whose nodes get `tags`. */
  async createKey(options: KeyOptions): Promise<string> {
    const out = await this.cli([
      "preauthkeys",
      "create",
      "--tags",
      options.tags.join(","),
      ...(options.reusable === false ? [] : ["--reusable"]),
      ...(options.ephemeral === false ? [] : ["--ephemeral"]),
      "--expiration",
      options.expiration ?? "2h",
      "-o",
      "json",
    ]);
    const key = (JSON.parse(out) as { key?: string }).key;
    if (!key?.startsWith("hskey-auth-")) throw new Error(`headscale: no key in ${out}`);
    return key;
  }

  async nodes(): Promise<HeadscaleNode[]> {
    return parseNodes(await this.cli(["nodes", "list", "-o", "json"]));
  }
}
