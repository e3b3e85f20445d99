// `health APP [VERSION]`: run the health check that the installed version's signed manifest
// declares — never a command sent by the caller, so a console key limited to the agent (forced
// command) cannot use it to run anything else. exec: argv without a shell (the agent's `run`), in
// the version's tree, killed with its process group at the timeout; http: one GET, the status compared.
// An exec check runs as the unprivileged user `keel-check` (check-user.ts) with no new privileges
// and no capabilities — a builder's signed argv must not be root on every host of a rollout —
// unless the manifest says `runAs: "root"` (which the console shows on the plan and the approval).
// The working directory is opened as root before the switch, so the check runs in its tree even
// when the store's directories are closed to other users. It runs in a PID namespace of its own:
// nothing it starts outlives it or its timeout, not even what escaped its process group (setsid).
import { runsAsRoot, type HealthArgs, type HealthCheck, type HealthResult } from "../../protocol";
import type { AgentContext } from "../context";
import { ensureCheckUser } from "../check-user";
import { AgentError } from "../errors";
import { run } from "../store/fs-util";
import { listVersions, readMeta, readPointer } from "../store/state";

const OUTPUT_LIMIT = 2048;

export async function health(ctx: AgentContext, args: HealthArgs): Promise<HealthResult> {
  const { layout } = ctx;
  const version = args.version ?? readPointer(layout.current(args.app));
  if (!version) throw new AgentError("NOT_FOUND", "health", `${args.app} has no current version`);
  const meta = listVersions(layout, args.app).includes(version) ? readMeta(layout, args.app, version) : null;
  if (!meta) throw new AgentError("NOT_FOUND", "health", `${args.app} ${version} is not installed`);
  const check = meta.manifest.healthCheck;
  const base = { app: args.app, version };
  if (!check)
    return { ...base, ran: false, ok: true, outcome: "no health check declared", durationMs: 0, output: "" };
  const started = Date.now();
  const r =
    check.type === "exec"
      ? await runExec(check, layout.version(args.app, version), base)
      : await runHttp(check);
  return { ...base, ran: true, ...r, durationMs: Date.now() - started };
}

type Outcome = { ok: boolean; outcome: string; output: string; user?: string };

async function runExec(
  check: Extract<HealthCheck, { type: "exec" }>,
  cwd: string,
  who: { app: string; version: string },
): Promise<Outcome> {
  // A clean environment: the agent's own (the console's session) is none of the check's business.
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    KEEL_APP: who.app,
    KEEL_VERSION: who.version,
    KEEL_APP_DIR: cwd,
  };
  let as: { uid: number; gid: number } | undefined;
  let user = "root";
  if (!runsAsRoot(check)) {
    const u = await ensureCheckUser().catch((e: Error) => e);
    if (u instanceof Error)
      return { ok: false, outcome: `not run: ${u.message}`, output: "", user: "keel-check" };
    as = u;
    user = u.name;
  }
  const r = await run(check.argv, {
    cwd,
    env: env as unknown as NodeJS.ProcessEnv,
    timeoutMs: check.timeoutMs,
    maxOutput: OUTPUT_LIMIT,
    as,
    ownPids: true,
  }).catch((e: Error) => e);
  if (r instanceof Error)
    return { ok: false, outcome: `could not start ${check.argv[0]}: ${r.message}`, output: "", user };
  // stdout is drained, not kept: stderr says why a check failed.
  const output = r.stderr.slice(0, OUTPUT_LIMIT).trim();
  if (r.timedOut)
    return { ok: false, outcome: `killed after the ${check.timeoutMs} ms timeout`, output, user };
  return {
    ok: r.code === 0,
    outcome: r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`,
    output,
    user,
  };
}

async function runHttp(check: Extract<HealthCheck, { type: "http" }>): Promise<Outcome> {
  try {
    const res = await fetch(check.url, { signal: AbortSignal.timeout(check.timeoutMs), redirect: "manual" });
    const body = (await res.text().catch(() => "")).slice(0, OUTPUT_LIMIT).trim();
    return {
      ok: res.status === check.expectStatus,
      outcome: `status ${res.status} (expected ${check.expectStatus})`,
      output: body,
    };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why =
      err.name === "TimeoutError"
        ? `no answer within ${check.timeoutMs} ms`
        : `${err.message}${err.cause ? `: ${err.cause.message}` : ""}`;
    return { ok: false, outcome: why, output: "" };
  }
}
