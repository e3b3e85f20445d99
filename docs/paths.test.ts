// House rule: every repository path named in the docs and in code comments exists, so a reader
// who follows one is not sent nowhere. A path counts when it is in backticks, or names a file
// (has an extension); globs and <placeholders> are skipped. Migrations are history, not checked.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const TOP = "(?:agent|server|app|prisma|infra|e2e|bench|docs)";
const PATH = new RegExp(`(\`?)(${TOP}\\/[A-Za-z0-9_./()\\[\\]-]+)`, "g");

function namedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PATH)) {
    const before = text[m.index - 1];
    if (before && /[A-Za-z0-9_@./-]/.test(before)) continue; // inside a longer path or a URL
    let p = m[2]!;
    while (/[.,:;)]$/.test(p) && !(p.endsWith(")") && p.includes("("))) p = p.slice(0, -1);
    if (/[*<>]/.test(p)) continue;
    if (m[1] === "`" || /\.(ts|tsx|mjs|md|json|sql|prisma|toml)$/.test(p)) out.push(p.replace(/:\d+$/, ""));
  }
  return out;
}

describe("paths named in docs and comments", () => {
  it("finds a path in backticks or with an extension, and skips URLs and placeholders", () => {
    expect(
      namedPaths(
        "see `agent/src` and docs/agent.md, not https://x/agent/y.ts or `apps/<app>/x` or server/foo",
      ),
    ).toEqual(["agent/src", "docs/agent.md"]);
  });

  it("every one exists", () => {
    const files = execFileSync("git", ["ls-files", "*.md", "*.ts", "*.tsx", "*.mjs"], { encoding: "utf8" })
      .split("\n")
      .filter((f) => f && !f.startsWith("prisma/migrations/") && f !== "docs/paths.test.ts");
    const dangling = files.flatMap((f) =>
      namedPaths(readFileSync(f, "utf8"))
        .filter((p) => !existsSync(p))
        .map((p) => `${f}: ${p}`),
    );
    expect(dangling).toEqual([]);
  });
});
