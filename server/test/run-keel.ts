// Runs the `keel` CLI in-process for tests: its output lines and what it wrote to console.error.
import { vi } from "vitest";
import { runCli } from "@/server/cli/main";

export async function runKeel(
  env: NodeJS.ProcessEnv,
  argv: string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await runCli(argv, { out: (l) => out.push(l), env });
    return { code, out, err };
  } finally {
    spy.mockRestore();
  }
}
