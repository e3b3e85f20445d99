// The real host step of a rollout, over SSH to keel-agent, in one `serve` session on one pooled
// connection: the session's hello tells which agent runs (uploaded only when its digest differs
// from the console's bundle), `facts` says what the host holds, then the cheapest stream the plan
// chose is received (nothing for a rollback or a version already on the host), activated, the
// release's health check runs (a failure rolls the host back by itself), and a last `facts` in the
// same session goes straight into the inventory — no second connection, agent check or refresh.
// After a worker died mid-step (reconcile), the host's facts decide and nothing is done twice.
import type { PrismaClient } from "@prisma/client";
import type { Sql } from "@/server/db";
import { validateManifest, type Facts, type ReleaseManifest } from "@/agent/protocol";
import {
  installTrustedKeys,
  loadAgentBundle,
  openCheckedSession,
  receiveReleaseIn,
  type AgentBundle,
  type AgentSession,
  type SshConnection,
  type SshPool,
  SshError,
} from "@/server/ssh";
import type { ArtifactStore } from "@/server/services/artifacts/store";
import type { PlanArtifact } from "@/server/services/rollouts/types";
import {
  artifactName,
  checkStored,
  format2Of,
  loadStream,
  type Loaded,
  type StreamChoice,
} from "./approved-artifact";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { toSshTarget } from "@/server/services/inventory/ssh-adapter";
import type { HostExecutor, HostStepInput, HostStepResult, StepProgress } from "./executor";
import { runActivationHook } from "./activation-step";
import { activateRuntimes, receiveRuntimes, revertRuntimes, type RuntimeStep } from "./install-runtimes";

export type SshExecutorDeps = {
  db: PrismaClient;
  pool: SshPool;
  privateKey: string | Buffer;
  artifacts: ArtifactStore;
  bundle?: AgentBundle;
  /**
   * Writes the host's facts as the agent reported them at the end of the step (same session) in
   * the step's final transaction, so the inventory reflects the change at once (recordFacts).
   */
  recordFacts?: (tx: Sql, hostId: string, facts: Facts) => Promise<void>;
  /** Upper bound for one host step's agent session (default 10 min). */
  sessionTimeoutMs?: number;
  /** Keep the agent resident on hosts for this long after a step (KEEL_AGENT_RESIDENT_SECONDS; 0: off). */
  residentSeconds?: number;
};

function appState(f: Facts, app: string, kind?: "runtime") {
  const a = (kind === "runtime" ? (f.runtimes ?? []) : f.apps).find((x) => x.app === app);
  return { current: a?.current ?? null, has: (v: string) => !!a?.versions.some((x) => x.version === v) };
}

/**
 * Keys created after a host was enrolled (rotation) are not on it yet: the host's facts list the
 * key ids it trusts, and a missing signer key is installed before the stream is sent (audited with
 * the step). Forced-command hosts take no files from the console's key: there it is an error.
 * Returns the error, or null when the host trusts the signer.
 */
async function trustSigner(
  db: PrismaClient,
  conn: SshConnection,
  facts: Facts,
  signer: string,
  release: string,
  note: (command: string) => void,
): Promise<string | null> {
  if (!facts.trustedKeys || facts.trustedKeys.includes(signer)) return null;
  const host = conn.target.name;
  if (conn.target.forcedCommand)
    return `${host} does not trust signing key ${signer}, which signed ${release}; its SSH key may run only the agent, so an admin must add /etc/keel/trusted.d/${signer}.pub on the host`;
  // The keys hosts must trust are decided in one place (active and retired ones).
  const key = (await listTrustedPublicKeys({ db })).find((k) => k.keyId === signer);
  if (!key)
    return `${host} does not trust signing key ${signer}, which signed ${release}, and the console no longer trusts it either (removed or unknown)`;
  await installTrustedKeys(conn, [key.publicKeyLine]);
  note(`install-key ${signer}`);
  return null;
}

export function sshExecutor(deps: SshExecutorDeps): HostExecutor {
  let bundle: Promise<AgentBundle> | null = deps.bundle ? Promise.resolve(deps.bundle) : null;
  // A release's or delta's rows never change once built (a rebuild is another digest): the hosts
  // of one rollout share one lookup. Whether the store still has the bytes is checked every time.
  const streams = new Map<string, Promise<Loaded>>();
  const streamFor = (input: HostStepInput, a: PlanArtifact): Promise<Loaded> => {
    const { app, version } = input.rollout;
    const key = `${app}\u0000${version}\u0000${a.releaseId}\u0000${a.digest}`;
    let p = streams.get(key);
    if (!p) {
      p = loadStream(deps.db, app, version!, a);
      p.then(
        (l) => "problem" in l && streams.delete(key),
        () => streams.delete(key),
      );
      if (streams.size > 64) streams.delete(streams.keys().next().value!);
      streams.set(key, p);
    }
    return p;
  };

  /** The release's own manifest (its health check), when the host holds the version already. */
  const manifestOf = async (input: HostStepInput): Promise<ReleaseManifest> => {
    const { app, version } = input.rollout;
    const id = input.plan.artifact?.releaseId;
    const r = await deps.db.release.findFirst({
      where: id ? { id } : { app, version: version! },
      select: { manifest: true },
    });
    if (!r) throw new Error(`release ${app} ${version} is gone from the console`);
    return validateManifest(JSON.parse(r.manifest));
  };

  return {
    async run(input, progress) {
      const { host, plan, rollout } = input;
      // A runtime rollout acts in the agent's runtimes/ section.
      const kind = plan.kind === "runtime" ? { kind: "runtime" as const } : {};
      const target = toSshTarget(host, deps.privateKey);
      let step = "connect";
      const say = async (p: StepProgress) => {
        step = p.step;
        await progress(p);
      };
      // What ran on the host, in order: the console's own commands (agent check, key install)
      // between the session's requests, each placed after the requests that had answered by then.
      const notes: { after: number; command: string }[] = [];
      const note = (command: string) => notes.push({ after: session?.log.length ?? 0, command });
      let session: AgentSession | null = null;
      const lease = await deps.pool.acquire(target).catch((e: Error) => e);
      if (lease instanceof Error) {
        const keyChanged = lease instanceof SshError && lease.code === "HOST_KEY_CHANGED";
        const presented = keyChanged ? lease.details?.presented : undefined;
        return {
          outcome: "failed",
          step,
          error: lease.message,
          ...(keyChanged
            ? { hostKeyChanged: { presented: typeof presented === "string" ? presented : null } }
            : {}),
        };
      }
      const ran = () => {
        const log = session?.log ?? [];
        const out: string[] = [];
        for (let i = 0, n = 0; i <= log.length; i++) {
          while (n < notes.length && notes[n]!.after <= i) out.push(notes[n++]!.command);
          const l = log[i];
          if (l) out.push(`${l.command}${l.ok ? "" : " (failed)"}`);
        }
        return out;
      };
      /** The change (or the state found) goes into the inventory from this same session. */
      const finish = async (r: HostStepResult): Promise<HostStepResult> => {
        try {
          await say({ step: "report" });
          const after = await session!.request("facts", {});
          const record = deps.recordFacts;
          if (record) r = { ...r, record: (tx) => record(tx, host.id, after) };
        } catch (e) {
          if (r.outcome === "succeeded")
            r = {
              ...r,
              detail: `${r.detail ? r.detail + "; " : ""}inventory not updated: ${(e as Error).message}`,
            };
        }
        return { ...r, commands: ran() };
      };
      try {
        const conn = lease.conn;
        await say({ step: "agent" });
        const opened = await openCheckedSession(conn, {
          bundle: await (bundle ??= loadAgentBundle()),
          timeoutMs: deps.sessionTimeoutMs ?? 600_000,
          residentSeconds: deps.residentSeconds,
        });
        session = opened.session;
        note(
          opened.ensured
            ? `ensure-agent (${opened.ensured.action})`
            : opened.resident
              ? "resident agent (digest matched)"
              : "serve (agent digest matched)",
        );
        const target_ = plan.to;
        if (!target_)
          return {
            outcome: "failed",
            step: "plan",
            error: "the plan names no version for this host",
            commands: ran(),
          };

        /** Makes `previous` current; that version runs its own hook (a restart onto the old tree; apps only). */
        const rollBack = async (): Promise<HostStepResult> => {
          await say({ step: "activate" });
          await session!.request("rollback", { app: rollout.app, ...kind });
          const failed =
            plan.kind === "runtime"
              ? null
              : await say({ step: "hook" }).then(() =>
                  runActivationHook(session!, host.name, rollout.app, undefined, note),
                );
          return finish(
            failed ? { outcome: "failed", step: "hook", error: failed } : { outcome: "succeeded" },
          );
        };

        // A fleet rollback needs nothing from the host first (the agent refuses when there is no
        // previous); only a re-claimed step asks whether the first attempt already did it.
        if (rollout.action === "rollback" && !input.reconcile) {
          return await rollBack();
        }

        const factsBefore = await session.request("facts", {});
        const before = appState(factsBefore, rollout.app, plan.kind);
        if (input.reconcile && before.current === target_) {
          await say({ step: "reconcile" });
          return await finish({
            outcome: "succeeded",
            detail: "found done on the host after an interrupted attempt",
          });
        }

        if (rollout.action === "rollback") {
          return await rollBack();
        }

        // Runtimes the release requires: received first, made current together with the app.
        const rt: RuntimeStep | null = plan.runtimes?.length
          ? {
              db: deps.db,
              artifacts: deps.artifacts,
              session,
              facts: factsBefore,
              host: host.name,
              runtimes: plan.runtimes,
              say,
              trust: (signer, release) =>
                trustSigner(deps.db, lease.conn, factsBefore, signer, release, note),
            }
          : null;
        const runtimeProblem = rt && (await receiveRuntimes(rt));
        if (runtimeProblem)
          return await finish({ outcome: "failed", step: "runtime", error: runtimeProblem });

        let full: ReleaseManifest;
        if (before.has(target_))
          full = await manifestOf(input); // nothing to send
        else {
          // Exactly the artifact the approved plan names, or the host fails: never another stream.
          const a = plan.artifact;
          const fail = (error: string): HostStepResult => ({
            outcome: "failed",
            step: "artifact",
            error: `${error}; replan the rollout`,
            commands: ran(),
          });
          if (!a)
            return fail(
              plan.stream === "none"
                ? `the approved plan sends nothing to host ${host.name} (it held ${rollout.app} ${target_}), but the host no longer holds that version`
                : `the plan names no artifact for host ${host.name} (planned before plans recorded them)`,
            );
          const s = await streamFor(input, a);
          const stored = "problem" in s ? s : await checkStored(deps.artifacts, a);
          if ("problem" in stored)
            return fail(`the approved ${artifactName(a, target_)} for host ${host.name} ${stored.problem}`);
          const stream = s as StreamChoice;
          full = stream.full;
          const untrusted = await trustSigner(
            deps.db,
            lease.conn,
            factsBefore,
            stream.manifest.signer,
            `${rollout.app} ${target_}`,
            note,
          );
          if (untrusted) return { outcome: "failed", step: "trust", error: untrusted, commands: ran() };
          await say({ step: "send", bytesSent: 0 });
          let sent = 0;
          let lastReport = 0;
          await receiveReleaseIn(
            session,
            { manifest: stream.manifest, wireEncoding: stream.wireEncoding },
            { path: stored.path, format2: format2Of(deps.artifacts, stream) },
            {
              onSent: (n) => {
                sent = n;
                if (Date.now() - lastReport > 500) {
                  lastReport = Date.now();
                  void progress({ step: "send", bytesSent: sent });
                }
              },
              onProgress: (p) =>
                void progress({ step: p.step === "receive" ? "receive" : "send", bytesSent: sent }),
            },
          );
          await say({ step: "receive", bytesSent: sent });
        }

        if (rt) await activateRuntimes(rt, { app: rollout.app, version: target_ });
        await say({ step: "activate" });
        await session
          .request("activate", { app: rollout.app, version: target_, ...kind })
          .catch(async (e: Error) => {
            if (rt && before.current) await revertRuntimes(rt, { app: rollout.app, version: before.current });
            throw e;
          });
        // Going back: the old version becomes current again and its own hook runs.
        const revert = async (why: string): Promise<HostStepResult> => {
          if (!before.current)
            return await finish({
              outcome: "failed",
              step: step,
              error: `${why}; ${rollout.app} ${target_} stays current: the host ran no earlier version to go back to`,
            });
          await say({ step: "revert" });
          const stuck = rt ? await revertRuntimes(rt, { app: rollout.app, version: before.current }) : [];
          if (stuck.length)
            return await finish({ outcome: "failed", step: "revert", error: `${why}; ${stuck.join("; ")}` });
          await session!.request("activate", {
            app: rollout.app,
            version: before.current,
            rollback: true,
            ...kind,
          });
          const old =
            plan.kind === "runtime"
              ? null
              : await runActivationHook(session!, host.name, rollout.app, before.current, note);
          return await finish({
            outcome: "reverted",
            error: `${why}; back on ${before.current}${old ? `, but its hook failed too: ${old}` : ""}`,
          });
        };
        if (full.onActivate && plan.kind !== "runtime") {
          await say({ step: "hook" });
          const failed = await runActivationHook(session, host.name, rollout.app, target_, note);
          if (failed) return await revert(failed);
        }

        const check = full.healthCheck;
        if (check) {
          await say({ step: "health-check" });
          // The agent runs the check its installed, signed manifest declares (as the unprivileged
          // user keel-check unless it says runAs "root"; also on forced-command hosts); the console only asks.
          const h = await session
            .request("health", { app: rollout.app, version: target_, ...kind })
            .catch((e: Error) => ({ ok: false, outcome: e.message, output: "" }));
          if (!h.ok)
            return await revert(
              `health check failed (${h.outcome}${h.output ? `: ${h.output.slice(0, 200)}` : ""})`,
            );
        }
        return await finish({ outcome: "succeeded" });
      } catch (e) {
        return { outcome: "failed", step, error: (e as Error).message, commands: ran() };
      } finally {
        // The agent exits when its input ends; the step does not wait for the channel to close.
        void session?.close().catch(() => undefined);
        lease.release();
      }
    },
  };
}
