/**
 * A marked block dnb owns inside a file it shares with others (nix.conf, ssh_config).
 * Inserting and then removing gives back the original text byte for byte, a missing final newline included.
 */
export const BLOCK_BEGIN = "# >>> dnb >>>";
export const BLOCK_END = "# <<< dnb <<<";

/** Where a new block goes: nix.conf lets the last setting win, ssh_config the first. */
export type BlockPosition = "start" | "end";

const BLOCK = /(^|\n)(# >>> dnb >>>\n(?:[\s\S]*?\n)?# <<< dnb <<<)(\n|$)/;

export function renderBlock(body: readonly string[]): string {
  return [BLOCK_BEGIN, ...body, BLOCK_END].join("\n");
}

/** Replaces dnb's block where it stands, or adds it at `position`; the rest of the text is untouched. */
export function upsertBlock(text: string, body: readonly string[], position: BlockPosition): string {
  const block = renderBlock(body);
  const found = BLOCK.exec(text);
  if (found) {
    const start = found.index + found[1].length;
    return text.slice(0, start) + block + text.slice(start + found[2].length);
  }
  if (position === "start") return `${block}\n${text}`;
  if (text === "" || text.endsWith("\n")) return `${text}${block}\n`;
  // The file had no final newline: keep it that way, so removal can tell the separator was ours.
  return `${text}\n${block}`;
}

/** Removes every dnb block; text without one comes back unchanged. */
export function removeBlock(text: string): string {
  let out = text;
  for (let found = BLOCK.exec(out); found; found = BLOCK.exec(out)) {
    const blockStart = found.index + found[1].length;
    const blockEnd = blockStart + found[2].length;
    out = found[3] === "\n"
      ? out.slice(0, blockStart) + out.slice(blockEnd + 1)
      : out.slice(0, found.index) + out.slice(blockEnd);
  }
  return out;
}

/** The lines inside dnb's block, or undefined when the text has none. */
export function blockBody(text: string): string[] | undefined {
  const found = BLOCK.exec(text);
  if (!found) return undefined;
  return found[2].split("\n").slice(1, -1);
}
