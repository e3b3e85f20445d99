// The runtimes a host step installs with the app (decision 0023): exactly the artifacts the
// approved plan names, in the same agent session. Each is received into runtimes/<name>/<version>
// before the app's stream, and activated just before the app, "together" with the app's new
// version (the agent judges that app by the version it is about to run, so an app and the runtime
// it moves to change as one; every other installed app must accept the runtime). If the app does
// not come up, the runtimes go back first, then the app.
import type { PrismaClient } from "@prisma/client";
import type { Facts } from "@/agent/protocol";
import { receiveReleaseIn, type AgentSession } from "@/server/ssh";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { PlanRuntime } from "@/server/services/rollouts/types";
import { artifactName, checkStored, format2Of, loadStream } from "./approved-artifact";
import type { StepProgress } from "./executor";

export type RuntimeStep = {
  db: PrismaClient;
  artifacts: ArtifactStore;
  session: AgentSession;
  facts: Facts;
  host: string;
  runtimes: PlanRuntime[];
  say: (p: StepProgress) => Promise<void>;
  /** Installs the signer's key when the host lacks it; returns an error or null. */
  trust: (signer: string, release: string) => Promise<string | null>;
};

const heldOf = (x: RuntimeStep, r: PlanRuntime) => x.facts.runtimes?.find((a) => a.app === r.runtime);

/** Receives every planned runtime version the host lacks; returns null, or what went wrong. */
export async function receiveRuntimes(x: RuntimeStep): Promise<string | null> {
  for (const r of x.runtimes) {
    const held = heldOf(x, r);
    if (held?.versions.some((v) => v.version === r.to)) continue;
    const a = r.artifact;
    if (!a)
      return `the approved plan sends no ${r.runtime} ${r.to} to host ${x.host}, but the host no longer holds it; replan the rollout`;
    const s = await loadStream(x.db, r.runtime, r.to, a);
    if ("problem" in s)
      return `the approved ${artifactName(a, r.to)} of runtime ${r.runtime} for host ${x.host} ${s.problem}; replan the rollout`;
    const stored = await checkStored(x.artifacts, a);
    if ("problem" in stored)
      return `the approved ${artifactName(a, r.to)} of runtime ${r.runtime} for host ${x.host} ${stored.problem}; replan the rollout`;
    const untrusted = await x.trust(s.manifest.signer, `${r.runtime} ${r.to}`);
    if (untrusted) return untrusted;
    await x.say({ step: "runtime", bytesSent: 0 });
    await receiveReleaseIn(
      x.session,
      { manifest: s.manifest, wireEncoding: s.wireEncoding },
      { path: stored.path, format2: format2Of(x.artifacts, s) },
    );
  }
  return null;
}

/** Makes each planned runtime current, together with the app's new version. */
export async function activateRuntimes(
  x: RuntimeStep,
  together: { app: string; version: string },
): Promise<void> {
  for (const r of x.runtimes) {
    if (heldOf(x, r)?.current === r.to) continue;
    await x.say({ step: "runtime" });
    await x.session.request("activate", { app: r.runtime, version: r.to, kind: "runtime", together });
  }
}

/** Puts the runtimes back where they were, together with the app's old version (best effort). */
export async function revertRuntimes(
  x: RuntimeStep,
  together: { app: string; version: string },
): Promise<string[]> {
  const problems: string[] = [];
  for (const r of x.runtimes) {
    const before = heldOf(x, r)?.current;
    if (!before || before === r.to) continue;
    await x.session
      .request("activate", { app: r.runtime, version: before, rollback: true, kind: "runtime", together })
      .catch((e: Error) => problems.push(`runtime ${r.runtime} stays on ${r.to}: ${e.message}`));
  }
  return problems;
}
