// The real host step of a rollout, over SSH to keel-agent: ensure the agent, send the cheapest
// stream the plan chose (nothing for a rollback or a version already on the host), receive,
// activate, run the release's health check, and roll the host back by itself when it fails.
// After a worker died mid-step (reconcile), the host is asked first and nothing is done twice.
import type { PrismaClient } from "@prisma/client";
import { validateManifest, type HealthCheck, type ReleaseManifest } from "@/agent/protocol";
import { ensureAgent, receiveRelease, runAgent, type AgentBundle, type SshConnection, type SshPool, type SshTarget } from "@/server/ssh";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { HostExecutor, HostStepInput, StepProgress } from "./executor";

export type SshExecutorDeps = {
  db: PrismaClient;
  pool: SshPool;
  privateKey: string | Buffer;
  artifacts: ArtifactStore;
  bundle?: AgentBundle;
  /** Called after a host changed, so the inventory reflects it (e.g. a facts refresh). */
  afterChange?: (hostId: string) => Promise<void>;
};

/** Node one-liner for an HTTP health check on the host: exit 0 when the status matches. */
const HTTP_CHECK =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(Number(process.argv[3]))}).then(r=>process.exit(r.status===Number(process.argv[2])?0:1),e=>{console.error(String(e));process.exit(2)})";

function healthArgv(h: HealthCheck): string[] {
  return h.type === "exec" ? h.argv : ["node", "-e", HTTP_CHECK, h.url, String(h.expectStatus), String(h.timeoutMs)];
}

async function streamFor(deps: SshExecutorDeps, input: HostStepInput) {
  const { app, version } = input.rollout;
  const release = await deps.db.release.findUnique({
    where: { app_version: { app, version: version! } },
    select: { id: true, manifest: true, streamDigest: true },
  });
  if (!release) throw new Error(`release ${app} ${version} is gone from the console`);
  const full = validateManifest(JSON.parse(release.manifest));
  if (input.plan.stream === "delta" && input.plan.parent) {
    const d = await deps.db.releaseDelta.findFirst({
      where: { releaseId: release.id, parent: { version: input.plan.parent } },
      select: { manifest: true, streamDigest: true, encodedDigest: true },
    });
    if (d) {
      const manifest = validateManifest(JSON.parse(d.manifest));
      const digest = d.encodedDigest ?? d.streamDigest;
      return { manifest, digest, wireEncoding: d.encodedDigest ? ("keel-delta-1" as const) : ("raw" as const), full };
    }
  }
  return { manifest: full, digest: release.streamDigest, wireEncoding: "raw" as const, full };
}

async function currentOn(conn: SshConnection, app: string): Promise<{ current: string | null; has: (v: string) => boolean }> {
  const facts = await runAgent(conn, "facts", {});
  const a = facts.apps.find((x) => x.app === app);
  return { current: a?.current ?? null, has: (v) => !!a?.versions.some((x) => x.version === v) };
}

export function sshExecutor(deps: SshExecutorDeps): HostExecutor {
  return {
    async run(input, progress) {
      const { host, plan, rollout } = input;
      const target: SshTarget = {
        name: host.name,
        address: host.address,
        port: host.port,
        user: host.user,
        privateKey: deps.privateKey,
        pinnedFingerprint: host.fingerprint,
        sudo: host.sudoMode === "sudo",
        forcedCommand: host.sudoMode === "forced-command",
      };
      let step = "connect";
      const say = async (p: StepProgress) => {
        step = p.step;
        await progress(p);
      };
      await say({ step: "connect" });
      const lease = await deps.pool.acquire(target);
      try {
        const conn = lease.conn;
        await say({ step: "ensure-agent" });
        await ensureAgent(conn, { bundle: deps.bundle });
        const target_ = plan.to;
        if (!target_) return { outcome: "failed", step: "plan", error: "the plan names no version for this host" };

        if (input.reconcile) {
          await say({ step: "reconcile" });
          const now = await currentOn(conn, rollout.app);
          if (now.current === target_) {
            await deps.afterChange?.(host.id);
            return { outcome: "succeeded", detail: "found done on the host after an interrupted attempt" };
          }
        }

        if (rollout.action === "rollback") {
          await say({ step: "activate" });
          await runAgent(conn, "rollback", { app: rollout.app });
          await deps.afterChange?.(host.id);
          return { outcome: "succeeded" };
        }

        const s = await streamFor(deps, input);
        const before = await currentOn(conn, rollout.app);
        if (!before.has(target_)) {
          const path = deps.artifacts.localPath(s.digest);
          if (!path) return { outcome: "failed", step: "send", error: "the release stream is not in the console's artifact store" };
          await say({ step: "send", bytesSent: 0 });
          let sent = 0;
          let lastReport = 0;
          await receiveRelease(conn, { manifest: s.manifest, wireEncoding: s.wireEncoding }, path, {
            onSent: (n) => {
              sent = n;
              if (Date.now() - lastReport > 500) {
                lastReport = Date.now();
                void progress({ step: "send", bytesSent: sent });
              }
            },
            onProgress: (p) => void progress({ step: p.step === "receive" ? "receive" : "send", bytesSent: sent }),
          });
          await say({ step: "receive", bytesSent: sent });
        }

        await say({ step: "activate" });
        await runAgent(conn, "activate", { app: rollout.app, version: target_ });

        const check = (s.full as ReleaseManifest).healthCheck;
        if (check) {
          await say({ step: "health-check" });
          const r = await conn.exec(healthArgv(check), { step: "exec", timeoutMs: check.timeoutMs, maxOutputBytes: 64 * 1024 }).catch((e: Error) => ({
            exitCode: -1,
            stderr: Buffer.from(e.message),
            stdout: Buffer.alloc(0),
          }));
          if (r.exitCode !== 0) {
            const why = `health check failed (exit ${r.exitCode}${r.stderr.length ? `: ${r.stderr.toString("utf8").trim().slice(0, 200)}` : ""})`;
            await say({ step: "revert" });
            if (before.current) await runAgent(conn, "activate", { app: rollout.app, version: before.current, rollback: true });
            await deps.afterChange?.(host.id);
            return { outcome: "reverted", error: `${why}; ${before.current ? `back on ${before.current}` : "no earlier version to go back to"}` };
          }
        }
        await say({ step: "report" });
        await deps.afterChange?.(host.id);
        return { outcome: "succeeded" };
      } catch (e) {
        return { outcome: "failed", step, error: (e as Error).message };
      } finally {
        lease.release();
      }
    },
  };
}
