/** The builds the benchmarks time: independent x86_64-linux derivations that sleep, or do next to nothing. */

/** `count` derivations that each sleep `sleepSeconds` (0: none) and write their number; a nonce keeps them unbuilt. */
export function derivations(count: number, sleepSeconds: number): string {
  return [
    "builtins.genList (n: derivation {",
    '  name = "work-${toString n}";',
    '  system = "x86_64-linux";',
    `  nonce = "${crypto.randomUUID()}";`,
    '  builder = "/bin/sh";',
    `  args = [ "-c" "${sleepSeconds > 0 ? `/bin/sleep ${sleepSeconds}; ` : ""}/bin/echo \${toString n} > $out" ];`,
    `}) ${count}`,
    "",
  ].join("\n");
}
