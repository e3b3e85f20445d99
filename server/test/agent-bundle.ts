// A fresh keel-agent bundle built from the working tree for tests that run the console's builds
// (whatever agent/dist holds may be stale); point KEEL_AGENT_BUNDLE at the returned path.
import { join } from "node:path";
import { build } from "esbuild";

const REPO = join(__dirname, "..", "..");

export async function buildTestAgentBundle(outfile: string): Promise<string> {
  await build({
    entryPoints: [join(REPO, "agent", "src", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    define: { __KEEL_AGENT_VERSION__: JSON.stringify("test"), __KEEL_AGENT_BUNDLED__: "true" },
    logLevel: "error",
  });
  return outfile;
}
