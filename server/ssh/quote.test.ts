import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SshError } from "./errors";
import { buildCommand, quoteArg } from "./quote";

// What a remote POSIX shell makes of the string we send: run it through real sh and dash and
// have printf report every word it received.
function wordsSeenBy(shell: string, argv: string[]): string[] {
  const out = execFileSync(shell, ["-c", `printf '%s\\0' ${buildCommand(argv)}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const NASTY = [
  "$(touch /tmp/keel-pwned)",
  "`id`",
  "a; rm -rf /",
  "line1\nline2",
  "-rf",
  "--help",
  "it's",
  "'",
  "''",
  "\\'",
  "*",
  "~root",
  "$HOME",
  "${IFS}",
  "a b\tc",
  "",
  "| cat /etc/shadow",
  "&& reboot",
  "> /etc/passwd",
  "é ü 日本",
];

describe("buildCommand", () => {
  it.each(["sh", "bash", "dash"].filter((s) => existsSync(`/bin/${s}`)))(
    "hands every word to %s unchanged, with no expansion",
    (shell) => {
      expect(wordsSeenBy(shell, NASTY)).toEqual(NASTY);
    },
  );

  it("quotes with single quotes and escapes embedded quotes", () => {
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArg("")).toBe("''");
    expect(buildCommand(["echo", "$(id)"])).toBe("'echo' '$(id)'");
  });

  it("refuses an empty argv and NUL bytes", () => {
    expect(() => buildCommand([])).toThrow(SshError);
    expect(() => quoteArg("a\0b")).toThrow(/NUL/);
  });
});
