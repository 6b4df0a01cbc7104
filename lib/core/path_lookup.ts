import { delimiter, join } from "node:path";
import type { Files } from "./files.ts";

/** The executable `program` in the first folder of a PATH value that has one, as a shell would find it. */
export function findOnPath(files: Files, program: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    const info = files.stat(candidate);
    if (info?.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
  }
  return undefined;
}
