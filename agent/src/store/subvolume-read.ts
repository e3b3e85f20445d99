// The kernel's own description of a read-only subvolume: `btrfs send --no-data` of it, parsed by
// the same strict parser as incoming streams (send-stream.ts, `listing`). Node has no API for
// extended attributes and the agent takes no native addon; btrfs-progs is already required, and
// this way every inode — the root included — is described by the kernel with its exact mode and
// every extended attribute (capabilities, ACLs, security labels), whatever a stream claimed.
// Metadata only: file data is replaced by extent references, so it costs little.
import { spawn } from "node:child_process";
import { AgentError } from "../errors";
import { span } from "../timing";
import { SendStreamInspector, StreamProblem, type SendStreamFacts } from "./send-stream";

/** Reads what the subvolume at path holds (it must be read-only). Throws AgentError (step). */
export function readSubvolume(path: string, step: string): Promise<SendStreamFacts> {
  return new Promise((resolve, reject) => {
    const inspector = new SendStreamInspector({ uuid: undefined, parentUuid: null, listing: true });
    const done = span("child:btrfs-send-no-data", true);
    const child = spawn(
      "setpriv",
      ["--pdeathsig", "KILL", "--", "btrfs", "send", "--no-data", "-q", "--", path],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let problem: unknown = null;
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      if (problem) return;
      try {
        inspector.push(d);
      } catch (e) {
        problem = e;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on("error", (e) =>
      reject(
        new AgentError("CHECK_FAILED", step, `cannot run btrfs send to read the received tree: ${e.message}`),
      ),
    );
    child.on("close", (code) => {
      done();
      if (problem) {
        // The kernel described something no release may hold (e.g. an xattr outside the allow-list).
        const e = problem as Error;
        return reject(
          problem instanceof StreamProblem
            ? new AgentError(problem.kind, step, e.message.replace(/^the stream /, "the received tree "))
            : e,
        );
      }
      if (code !== 0)
        return reject(
          new AgentError(
            "CHECK_FAILED",
            step,
            `btrfs send --no-data of the received tree failed (exit ${code}): ${stderr.trim().slice(0, 500)}`,
          ),
        );
      try {
        resolve(inspector.finish());
      } catch (e) {
        reject(
          e instanceof StreamProblem
            ? new AgentError("CHECK_FAILED", step, `the received tree's description: ${e.message}`)
            : e,
        );
      }
    });
  });
}
