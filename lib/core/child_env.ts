/**
 * The environment dnb's children get: an allow-list of what tools need (PATH, locale, Nix's and the
 * runner's variables), never a credential. The auth key and the OIDC request token stay in dnb.
 */
/** Variables children get from dnb's own environment: what tools need to run, never a credential. */
const CHILD_ENV_NAMES = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TZ",
  "TMPDIR",
  "CI",
  "NO_COLOR",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "CURL_CA_BUNDLE",
  "SSH_AUTH_SOCK",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "XDG_CONFIG_HOME",
  "XDG_RUNTIME_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
]);
const CHILD_ENV_PREFIXES = ["LC_", "NIX_", "TAILSCALE_", "GITHUB_", "RUNNER_", "DNB_"];
/** Names that hold credentials: TS_AUTHKEY, DNB_TAILSCALE_AUTHKEY, GITHUB_TOKEN, ACTIONS_ID_TOKEN_REQUEST_*, … */
const SECRET_NAME = /TOKEN|SECRET|AUTHKEY|AUTH_KEY|PASSWORD|PASSWD|CREDENTIAL|API_KEY|PRIVATE_KEY/i;

/** Whether a variable's name says it holds a credential; such a variable never reaches a child. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The part of an environment children may inherit: the allow-list above, minus anything named like a secret. */
export function childEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => {
      const [name, value] = entry;
      if (value === undefined || isSecretName(name)) return false;
      return CHILD_ENV_NAMES.has(name) || CHILD_ENV_PREFIXES.some((prefix) => name.startsWith(prefix));
    }),
  );
}
