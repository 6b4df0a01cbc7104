/**
 * Derivations for farm tests: each records the host that built it (the `# host=` marker in that
 * host's nix.conf) and needs nothing from a store, so an empty /nix builds it.
 */
export function probeDerivations(
  systems: Readonly<Record<string, number>>,
  nonce: string,
  /** How long each build takes, for tests that measure busy time. */
  sleepSeconds = 0,
): string {
  const pause = sleepSeconds > 0 ? `/bin/sleep ${sleepSeconds}; ` : "";
  const entries = Object.entries(systems).map(([system, count]) =>
    `map (n: mk "${system}" n) (builtins.genList (i: i + 1) ${count})`
  );
  return [
    "let",
    "  mk = system: n: derivation {",
    `    name = "probe-\${system}-\${toString n}";`,
    "    inherit system;",
    `    nonce = "${nonce}";`,
    '    builder = "/bin/sh";',
    `    args = [ "-c" "${pause}/bin/grep '^# host=' /etc/nix/nix.conf > $out; /bin/echo \${system} >> $out" ];`,
    "  };",
    `in ${entries.join(" ++ ")}`,
    "",
  ].join("\n");
}

/** `host=b1`/`x86_64-linux` pairs from built outputs, in the order nix-build printed them. */
export function buildRecords(outputs: readonly string[]): { host: string; system: string }[] {
  return outputs.map((text) => {
    const [marker = "", system = ""] = text.trim().split("\n");
    return { host: marker.replace(/^# host=/, ""), system };
  });
}
