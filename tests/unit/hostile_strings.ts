/**
 * Strings a hostile builder, peer or tailnet could send, each an attack that was reproduced or is one step
 * from one. Shared by the escaping tests (not a test file itself: `deno test` does not pick it up).
 */

/** Attacks on a GitHub Actions log: workflow commands, line ends, terminal escapes. */
export const LOG_ATTACKS: readonly string[] = [
  "\r::stop-commands::pwned",
  "ok\r::error::a fake failure",
  "\n::add-mask::x",
  "::add-mask::x",
  "  ::warning file=a.ts,line=1::fake",
  "%0A::error::escaped newline",
  "%0D%0A::notice::%25",
  "line one\r\nline two\n\n::endgroup::",
  "progress ##[stop-commands]tok",
  "##[error]legacy form",
  "##[group]x",
  "\u2028::error::after a line separator",
  "\u0085::error::after NEL",
  "\u202eevil.exe\u202c reversed",
  "isolate \u2066x\u2069 and mark \u200f",
  "nul\0byte",
  "\x1b[31mred\x1b[0m and \x1b]0;title\x07",
  "\x9b31m C1 CSI and \x7f DEL",
  "bell\x07 backspace\b form feed\f vertical tab\v",
  "lone surrogate \ud800 and \udfff",
  "unicode: é ü 日本 🚀 e\u0301",
  "tab\there: a,b:c %25 %",
  "",
  ":",
  "%",
  ",",
];

/** Attacks on the step summary's Markdown: table cells, links, images, HTML, code spans. */
export const MARKDOWN_ATTACKS: readonly string[] = [
  "a | b",
  "a \\| b",
  "![a](http://x)",
  "[x](http://x)",
  "[x]: http://x",
  "<img src=x>",
  "</td><script>alert(1)</script>",
  "`code`",
  "```\nend of the fence",
  "**bold** _it_ ~~strike~~",
  "$x^2$",
  "&lt;img src=x&gt;",
  "b1\n| fake | row |",
  '"]\n  n_x["injected',
  "#lt;img src=x#gt;",
  "x86_64-linux_",
  "# heading",
  "- item",
  "1. item",
];

/** Every attack, and a 1 MB value. */
export const HOSTILE: readonly string[] = [...LOG_ATTACKS, ...MARKDOWN_ATTACKS, "x".repeat(1_000_000)];

/** 10 kB of every kind of attack, for comparisons where a 1 MB string only makes a test slow. */
export const LONG_MIX = LOG_ATTACKS.join("|").repeat(20).slice(0, 10_000);
