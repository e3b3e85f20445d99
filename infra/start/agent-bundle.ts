// The console uploads agent/dist/keel-agent.mjs to hosts; build it when a checkout has none yet.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./next-app";

export async function ensureAgentBundle(log: (s: string) => void): Promise<void> {
  if (existsSync(join(REPO, "agent/dist/keel-agent.mjs"))) return;
  log("building the host agent (agent/dist/keel-agent.mjs)");
  await new Promise<void>((res, rej) => {
    const p = spawn(process.execPath, [join(REPO, "agent/build.mjs")], { cwd: REPO, stdio: "inherit" });
    p.once("exit", (code) =>
      code === 0 ? res() : rej(new Error(`building the agent failed (exit ${code})`)),
    );
  });
}
