import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fromFileUrl } from "../support/paths.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));

/** A relative Markdown link as written: the file it points at (empty for `#anchor` alone) and its anchor. */
interface Link {
  readonly line: number;
  readonly target: string;
  readonly path: string;
  readonly anchor?: string;
}

/** Blanks fenced code blocks (their lines stay, so line numbers hold): headings and links inside them are not real. */
function withoutFences(text: string): string[] {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const marker = line.match(/^\s*(`{3,}|~{3,})/)?.[1];
    if (fence === undefined && marker) {
      fence = marker;
      return "";
    }
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
        fence = undefined;
      }
      return "";
    }
    return line;
  });
}

/** GitHub's anchor for a heading: rendered text, lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown text offers: its ATX headings' slugs, repeats numbered as GitHub does (`-1`, `-2`). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutFences(text)) {
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every relative link `](path)`, `](path#anchor)` or `](#anchor)`, outside code blocks and code spans. */
export function relativeLinks(text: string): Link[] {
  const lines = withoutFences(text);
  // Code spans may wrap across lines; blank them but keep their newlines.
  const prose = lines.join("\n").replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, " "));
  const links: Link[] = [];
  for (const match of prose.matchAll(/\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
    const hash = target.indexOf("#");
    const line = prose.slice(0, match.index).split("\n").length;
    links.push(
      hash < 0
        ? { line, target, path: target }
        : { line, target, path: target.slice(0, hash), anchor: decodeURIComponent(target.slice(hash + 1)) },
    );
  }
  return links;
}

/** The links among `files` (path → text, relative to the repository) whose file or anchor does not exist. */
export function brokenLinks(
  files: Readonly<Record<string, string>>,
  exists: (path: string) => boolean,
  read: (path: string) => string,
): string[] {
  const problems: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const link of relativeLinks(text)) {
      const where = `${file}:${link.line}: ](${link.target})`;
      const path = link.path === "" ? file : normalize(join(dirname(file), decodeURIComponent(link.path)));
      if (path.startsWith("..")) {
        problems.push(`${where} leaves the repository`);
        continue;
      }
      if (!(path in files) && !exists(path)) {
        problems.push(`${where}: ${path} does not exist`);
        continue;
      }
      if (link.anchor === undefined) continue;
      if (!path.endsWith(".md")) {
        problems.push(`${where}: an anchor into ${path}, which is not Markdown`);
        continue;
      }
      if (!anchors(files[path] ?? read(path)).has(link.anchor)) {
        problems.push(`${where}: ${path} has no heading #${link.anchor}`);
      }
    }
  }
  return problems;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(join(REPO, path));
    return true;
  } catch {
    return false;
  }
}

function read(path: string): string {
  return Deno.readTextFileSync(join(REPO, path));
}

function docs(): Record<string, string> {
  const files: Record<string, string> = { "README.md": read("README.md") };
  for (const entry of Deno.readDirSync(join(REPO, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files[`docs/${entry.name}`] = read(`docs/${entry.name}`);
  }
  return files;
}

Deno.test("slugs follow GitHub's: code marks and punctuation go, spaces become hyphens, repeats are numbered", () => {
  assert.equal(slug("Checking a machine: `dnb doctor`"), "checking-a-machine-dnb-doctor");
  assert.equal(
    slug("Is the farm sized right? The utilization report"),
    "is-the-farm-sized-right-the-utilization-report",
  );
  assert.equal(
    slug("After the coordinator: watchdog, status and teardown"),
    "after-the-coordinator-watchdog-status-and-teardown",
  );
  assert.equal(slug("The local farm (tests/e2e/)"), "the-local-farm-testse2e");
  assert.deepEqual([...anchors("# A\n\n```sh\n# not a heading\n```\n\n## A\n## B #\n")], ["a", "a-1", "b"]);
});

Deno.test("the checker finds a missing file, a missing anchor and ignores code and web links", () => {
  const files = {
    "README.md": [
      "# Top",
      "[ok](docs/a.md#part-one) [ok](#top) [web](https://example.com/x.md) `[code](nowhere.md)`",
      "[gone](docs/missing.md) [bad anchor](docs/a.md#part-two)",
      "```",
      "[fenced](nowhere.md)",
      "```",
    ].join("\n"),
    "docs/a.md": "# A\n\n[back](../README.md)\n\n## Part one\n",
  };
  assert.deepEqual(brokenLinks(files, () => false, read), [
    "README.md:3: ](docs/missing.md): docs/missing.md does not exist",
    "README.md:3: ](docs/a.md#part-two): docs/a.md has no heading #part-two",
  ]);
});

Deno.test("every relative link in README.md and docs/*.md reaches an existing file and heading", () => {
  const files = docs();
  const links = Object.values(files).flatMap(relativeLinks);
  assert.ok(links.length >= 20, `only ${links.length} relative links found: is the link pattern still right?`);
  assert.ok(links.some((link) => link.anchor !== undefined), "no link with an anchor found");
  assert.deepEqual(brokenLinks(files, exists, read), []);
});

Deno.test("the README links every docs page, and every docs page has a title and links back to the README", () => {
  const files = docs();
  const pages = Object.keys(files).filter((path) => path.startsWith("docs/"));
  assert.ok(pages.length > 0, "no docs pages found");
  const fromReadme = new Set(relativeLinks(files["README.md"]!).map((link) => link.path));
  for (const page of pages) {
    assert.ok(fromReadme.has(page), `README.md does not link ${page}`);
    assert.match(files[page]!, /^# \S/, `${page} does not start with a title`);
    assert.ok(relativeLinks(files[page]!).some((link) => link.path === "../README.md"), `${page} has no link back`);
  }
});
