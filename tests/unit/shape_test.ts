/**
 * The shape of lib/ that the README's "How it works" describes: folders in layers, each importing
 * only from its own folder or a lower layer, no circle between files, small files and functions.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fromFileUrl } from "../support/paths.ts";

const LIB = fromFileUrl(new URL("../../lib/", import.meta.url));
/** Lowest first: a file may import from its own folder or from a folder earlier in this list. */
export const LAYERS = [
  "core",
  "config",
  "protocol",
  "ssh",
  "nix",
  "tailnet",
  "builder",
  "farm",
  "report",
  "commands",
  ".",
] as const;
const MAX_FILE_LINES = 250;
const MAX_FUNCTION_LINES = 60;

function libFiles(dir = LIB): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory) return libFiles(path);
    return entry.name.endsWith(".ts") ? [relative(LIB, path)] : [];
  }).sort();
}

const FILES = libFiles();

function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(join(LIB, file));
  return [...text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+\.ts)"/gms)]
    .map((match) => normalize(join(dirname(file), match[1]!)))
    .filter((target) => !target.startsWith(".."));
}

function layerOf(file: string): number {
  const folder = dirname(file).split("/")[0]!;
  const rank = (LAYERS as readonly string[]).indexOf(folder);
  if (rank < 0) throw new Error(`${file}: its folder ${folder} is not a layer; add it to LAYERS and the README`);
  return rank;
}

Deno.test("every lib/ file imports only from its own folder or a lower layer", () => {
  const upward = FILES.flatMap((file) =>
    importsOf(file).filter((target) =>
      dirname(target).split("/")[0] !== dirname(file).split("/")[0] && layerOf(target) >= layerOf(file)
    ).map((target) => `${file} -> ${target}`)
  );
  assert.deepEqual(upward, []);
});

Deno.test("no circle of imports between lib/ files", () => {
  const graph = new Map(FILES.map((file) => [file, importsOf(file)]));
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") return void circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
    state.set(file, "open");
    for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, "done");
  };
  for (const file of FILES) visit(file, []);
  assert.deepEqual(circles, []);
});

Deno.test(`no lib/ file is longer than ${MAX_FILE_LINES} lines`, () => {
  const long = FILES.map((file) => [file, Deno.readTextFileSync(join(LIB, file)).split("\n").length - 1] as const)
    .filter(([, lines]) => lines > MAX_FILE_LINES);
  assert.deepEqual(long, []);
});

/**
 * Functions as deno fmt lays them out: a declaration (function, method, or a const bound to a
 * function) opens a line ending in `{`, and the line at the same indent starting with `}` closes it.
 */
export function longFunctions(text: string, limit: number): string[] {
  const lines = text.split("\n");
  // A function declaration may spread its parameters over lines; a method or an arrow is read on one line.
  const declaration = /^( *)(?:export )?(?:async )?function\*? (\w+)/;
  const oneLine =
    /^( *)(?:(?:private |static |readonly |async )*(#?\w+)\(.*\)(?:: .+)?|(?:export )?(?:const|let) (\w+) = (?:async )?(?:\([^)]*\)|\w+)(?:: [^=]+)? =>) \{$/;
  return lines.flatMap((line, index) => {
    const match = declaration.exec(line) ?? oneLine.exec(line);
    if (!match || /^\s*(if|for|while|switch|catch|return)\b/.test(line)) return [];
    const indent = match[1]!;
    const end = lines.findIndex((candidate, at) => at > index && candidate.startsWith(`${indent}}`));
    const length = end - index + 1;
    return end > 0 && length > limit ? [`${match[2] ?? match[3]} (line ${index + 1}, ${length} lines)`] : [];
  });
}

Deno.test("the function-length reader finds long functions of every form", () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `    step${i}();`).join("\n");
  const text = [
    `export async function long() {\n${body(70)}\n}`,
    `async function spread(\n  a: string,\n  b: number,\n): Promise<void> {\n${body(60)}\n}`,
    `function short() {\n${body(5)}\n}`,
    `class A {\n  method(x: number): void {\n${body(65)}\n  }\n}`,
    `const arrow = async (a: string) => {\n${body(61)}\n};`,
  ].join("\n");
  assert.deepEqual(longFunctions(text, 60).map((finding) => finding.split(" ")[0]), [
    "long",
    "spread",
    "method",
    "arrow",
  ]);
});

Deno.test(`no lib/ function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  const long = FILES.flatMap((file) =>
    longFunctions(Deno.readTextFileSync(join(LIB, file)), MAX_FUNCTION_LINES).map((finding) => `${file}: ${finding}`)
  );
  assert.deepEqual(long, []);
});
