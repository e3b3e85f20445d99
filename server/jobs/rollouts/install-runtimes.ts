// The runtimes a host step installs before the app (decision 0023): exactly the artifacts the
// approved plan names, in the same agent session, each received into runtimes/<name>/<version>
// and activated (the agent refuses a runtime that would break an installed app's range).
import type { PrismaClient } from "@prisma/client";
import type { Facts } from "@/agent/protocol";
import { receiveReleaseIn, type AgentSession, type SshConnection } from "@/server/ssh";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { PlanRuntime } from "@/server/services/rollouts/types";
import { artifactName, checkStored, loadStream } from "./approved-artifact";
import type { StepProgress } from "./executor";

export type RuntimeInstall = {
  db: PrismaClient;
  artifacts: ArtifactStore;
  session: AgentSession;
  conn: SshConnection;
  facts: Facts;
  host: string;
  runtimes: PlanRuntime[];
  say: (p: StepProgress) => Promise<void>;
  /** Installs the signer's key when the host lacks it; returns an error or null. */
  trust: (signer: string, release: string) => Promise<string | null>;
};

/** Returns null when every runtime is current at its planned version, else what went wrong. */
export async function installRuntimes(x: RuntimeInstall): Promise<string | null> {
  for (const r of x.runtimes) {
    const held = x.facts.runtimes?.find((a) => a.app === r.runtime);
    if (held?.current === r.to) continue;
    if (!held?.versions.some((v) => v.version === r.to)) {
      const a = r.artifact;
      if (!a) return `the approved plan sends no ${r.runtime} ${r.to} to host ${x.host}, but the host no longer holds it; replan the rollout`;
      const s = await loadStream(x.db, r.runtime, r.to, a);
      const stored = "problem" in s ? s : await checkStored(x.artifacts, a);
      if ("problem" in stored || "problem" in s) return `the approved ${artifactName(a, r.to)} of runtime ${r.runtime} for host ${x.host} ${"problem" in stored ? stored.problem : ""}; replan the rollout`;
      const untrusted = await x.trust(s.manifest.signer, `${r.runtime} ${r.to}`);
      if (untrusted) return untrusted;
      await x.say({ step: "runtime", bytesSent: 0 });
      await receiveReleaseIn(x.session, { manifest: s.manifest, wireEncoding: s.wireEncoding }, stored.path);
    }
    await x.say({ step: "runtime" });
    await x.session.request("activate", { app: r.runtime, version: r.to, kind: "runtime" });
  }
  return null;
}
