/** Every path below `dir`, relative and sorted: what a test compares before and after a run. */
export function listTree(dir: string): string[] {
  const entries: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    entries.push(entry.name);
    if (entry.isDirectory) entries.push(...listTree(`${dir}/${entry.name}`).map((name) => `${entry.name}/${name}`));
  }
  return entries.sort();
}
