import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AGENT_V8_FLAGS } from "./v8-flags";

/**
 * A child Node that sets `flags` at run time (as the agent does at start), then allocates short-lived
 * objects that survive a scavenge or two; prints the young generation's size in MiB.
 */
function youngGenerationMiB(flags: readonly string[]): number {
  const script = `
    const v8 = require("node:v8");
    for (const f of ${JSON.stringify(flags)}) v8.setFlagsFromString(f);
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, a: [i] }); if (keep.length > 100000) keep = []; }
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
    console.log(s.space_size / 1048576);`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

describe("the agent's V8 flags (decision 0041)", () => {
  it("keep the young generation at its initial size when set after start", () => {
    expect(youngGenerationMiB([])).toBeGreaterThan(4); // Node's default grows it (to 2 × 16 MiB)
    expect(youngGenerationMiB(AGENT_V8_FLAGS)).toBeLessThanOrEqual(2); // two 1 MiB semi-spaces
  });
});
