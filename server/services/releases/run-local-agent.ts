// Runs the console's own copy of keel-agent (the bundle it uploads to hosts) for `build`, so the
// console builds releases with exactly the agent's code (snapshot, sync, tree digest, streams,
// signed manifest). The signing key is handed over in a file only root can read, in RAM
// (/dev/shm when there is one), removed as soon as the agent is done: never on persistent disk.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AgentErrorBody } from "@/agent/protocol";
import { AppError } from "@/server/errors";

/** Stands, in runLocalAgent's arguments, for the path of the private file holding `secret`. */
export const SECRET_FILE = "\0secret-file";

export function localAgentBundle(): string {
  return process.env.KEEL_AGENT_BUNDLE ?? join(process.cwd(), "agent/dist/keel-agent.mjs");
}

export async function runLocalAgent<T>(
  args: string[],
  opts: { secret?: string; scratchDir: string; step: string },
): Promise<T> {
  const bundle = localAgentBundle();
  if (!existsSync(bundle)) {
    throw new AppError("PRECONDITION_FAILED", {
      message: `${opts.step}: the agent bundle ${bundle} is missing; run \`npm run build:agent\``,
    });
  }
  const secretDir = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : opts.scratchDir, "keel-key-"));
  try {
    const secretFile = join(secretDir, "key.pem");
    await writeFile(secretFile, opts.secret ?? "", { mode: 0o600, flag: "wx" });
    return await run<T>(
      bundle,
      args.map((a) => (a === SECRET_FILE ? secretFile : a)),
      opts.step,
    );
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}

async function run<T>(bundle: string, args: string[], step: string): Promise<T> {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4 * 1024 * 1024)));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  });
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new AppError("INTERNAL", {
      message: `${step}: keel-agent exited ${code} without a JSON answer: ${stderr.trim().slice(-500)}`,
    });
  }
  if (code !== 0) {
    const err = ((body as { error?: AgentErrorBody }).error ?? body) as AgentErrorBody;
    throw new AppError(err.code === "NOT_SUPPORTED" ? "PRECONDITION_FAILED" : "BAD_REQUEST", {
      message: `${step} failed at ${err.step ?? "?"}: ${err.message ?? stderr.trim()}`,
      details: { agentCode: err.code },
    });
  }
  return ((body as { result?: T }).result ?? body) as T;
}
