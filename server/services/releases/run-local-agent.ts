// Runs the console's own copy of keel-agent (the bundle it uploads to hosts) for `build`, so the
// console builds releases with exactly the agent's code (snapshot, sync, tree digest, streams,
// signed manifest). The signing key reaches the agent through a pipe on fd 3, never a file.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AgentErrorBody } from "@/agent/protocol";
import { AppError } from "@/server/errors";

export function localAgentBundle(): string {
  return process.env.KEEL_AGENT_BUNDLE ?? join(process.cwd(), "agent/dist/keel-agent.mjs");
}

export async function runLocalAgent<T>(
  args: string[],
  opts: { secretOnFd3?: string; step: string },
): Promise<T> {
  const bundle = localAgentBundle();
  if (!existsSync(bundle)) {
    throw new AppError("PRECONDITION_FAILED", {
      message: `${opts.step}: the agent bundle ${bundle} is missing; run \`npm run build:agent\``,
    });
  }
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const fd3 = child.stdio[3] as NodeJS.WritableStream;
  fd3.on("error", () => undefined); // the agent may exit before reading it
  fd3.end(opts.secretOnFd3 ?? "");
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4 * 1024 * 1024)));
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  });
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new AppError("INTERNAL", {
      message: `${opts.step}: keel-agent exited ${code} without a JSON answer: ${stderr.trim().slice(-500)}`,
    });
  }
  if (code !== 0) {
    const err = ((body as { error?: AgentErrorBody }).error ?? body) as AgentErrorBody;
    const notSupported = err.code === "NOT_SUPPORTED";
    throw new AppError(notSupported ? "PRECONDITION_FAILED" : "BAD_REQUEST", {
      message: `${opts.step} failed at ${err.step ?? "?"}: ${err.message ?? stderr.trim()}`,
      details: { agentCode: err.code },
    });
  }
  return ((body as { result?: T }).result ?? body) as T;
}
