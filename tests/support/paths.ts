import { fileURLToPath } from "node:url";

/** A file: URL as a path (node:url stands in for @std/path, which cannot be fetched here). */
export function fromFileUrl(url: URL): string {
  return fileURLToPath(url);
}
