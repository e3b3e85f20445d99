// The agent's own version and digest. The build (agent/build.mjs) injects the version; the digest is
// the SHA-256 of the running bundle file, which the console compares before uploading a new agent.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

declare const __KEEL_AGENT_VERSION__: string | undefined;
declare const __KEEL_AGENT_BUNDLED__: boolean | undefined;

export const AGENT_VERSION: string =
  typeof __KEEL_AGENT_VERSION__ === "string" ? __KEEL_AGENT_VERSION__ : "0.0.0-dev";

let cachedSha: string | null | undefined;

/** SHA-256 (hex) of the bundle file this process runs from; null when not running from the bundle. */
export function agentSha256(): string | null {
  if (cachedSha !== undefined) return cachedSha;
  cachedSha = null;
  if (typeof __KEEL_AGENT_BUNDLED__ === "boolean" && __KEEL_AGENT_BUNDLED__) {
    try {
      cachedSha = createHash("sha256")
        .update(readFileSync(fileURLToPath(import.meta.url)))
        .digest("hex");
    } catch {
      cachedSha = null;
    }
  }
  return cachedSha;
}
