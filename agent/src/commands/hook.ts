// `hook APP [VERSION]`: run the onActivate command that the installed version's signed manifest
// declares (never one sent by the caller), after `current` moved to it — the console asks for it on
// update, on revert and on rollback (then for the version that is current again). Like an exec
// health check: argv without a shell unless the manifest says `shell: true`, a clean environment,
// the version's tree as working directory, its process group killed at the timeout, and the
// unprivileged user keel-check unless the manifest says `runAs: "root"`. Unlike a check it gets no
// PID namespace of its own: restarting a service is its purpose, so what it starts may outlive it
// (it must detach: setsid, and its own stdout/stderr, or the hook waits for it). Decision 0022.
import { hookArgv, hookRunsAsRoot, type HookArgs, type HookResult } from "../../protocol";
import type { AgentContext } from "../context";
import { ensureCheckUser } from "../check-user";
import { AgentError } from "../errors";
import { run } from "../store/fs-util";
import { listVersions, readMeta, readPointer } from "../store/state";

const TAIL = 2048;

export async function hook(ctx: AgentContext, args: HookArgs): Promise<HookResult> {
  const { layout } = ctx;
  const version = args.version ?? readPointer(layout.current(args.app));
  if (!version) throw new AgentError("NOT_FOUND", "hook", `${args.app} has no current version`);
  const meta = listVersions(layout, args.app).includes(version) ? readMeta(layout, args.app, version) : null;
  if (!meta) throw new AgentError("NOT_FOUND", "hook", `${args.app} ${version} is not installed`);
  const h = meta.manifest.onActivate;
  const base = { app: args.app, version, exitCode: null, stderrTail: "" };
  if (!h) return { ...base, ran: false, ok: true, outcome: "no onActivate declared", durationMs: 0 };
  const cwd = layout.version(args.app, version);
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    KEEL_APP: args.app,
    KEEL_VERSION: version,
    KEEL_APP_DIR: cwd,
    KEEL_CURRENT: layout.current(args.app),
  };
  let as: { uid: number; gid: number } | undefined;
  let user = "root";
  const started = Date.now();
  if (!hookRunsAsRoot(h)) {
    const u = await ensureCheckUser().catch((e: Error) => e);
    if (u instanceof Error)
      return {
        ...base,
        ran: true,
        ok: false,
        outcome: `not run: ${u.message}`,
        durationMs: 0,
        user: "keel-check",
      };
    as = u;
    user = u.name;
  }
  const r = await run(hookArgv(h), {
    cwd,
    env: env as unknown as NodeJS.ProcessEnv,
    timeoutMs: h.timeoutMs,
    maxOutput: 64 * 1024,
    as,
  }).catch((e: Error) => e);
  const durationMs = Date.now() - started;
  if (r instanceof Error)
    return {
      ...base,
      ran: true,
      ok: false,
      outcome: `could not start ${hookArgv(h)[0]}: ${r.message}`,
      durationMs,
      user,
    };
  const stderrTail = r.stderr.slice(-TAIL).trim();
  const outcome = r.timedOut
    ? `killed after the ${h.timeoutMs} ms timeout`
    : r.code === null
      ? `killed by ${r.signal}`
      : `exit ${r.code}`;
  return {
    ...base,
    ran: true,
    ok: !r.timedOut && r.code === 0,
    outcome,
    exitCode: r.code,
    stderrTail,
    durationMs,
    user,
  };
}
