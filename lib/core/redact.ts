/** Replaces every registered secret in text with `***`; every log line and error passes through one. */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short strings would mask ordinary words, and no real credential is that short.
    if (secret !== undefined && secret.length >= 6) this.#secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      out = out.replaceAll(secret, "***");
    }
    return out;
  }
}
