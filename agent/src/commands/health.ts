// `health APP [VERSION]`: run the health check that the installed version's signed manifest
// declares — never a command sent by the caller, so a console key limited to the agent (forced
// command) cannot use it to run anything else. exec: argv without a shell, in the version's tree,
// killed with its process group at the timeout; http: one GET, the status compared.
import { spawn } from "node:child_process";
import type { HealthArgs, HealthCheck, HealthResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
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
  if (!check) return { ...base, ran: false, ok: true, outcome: "no health check declared", durationMs: 0, output: "" };
  const started = Date.now();
  const r = check.type === "exec" ? await runExec(check, layout.version(args.app, version), base) : await runHttp(check);
  return { ...base, ran: true, ...r, durationMs: Date.now() - started };
}

type Outcome = { ok: boolean; outcome: string; output: string };

function runExec(check: Extract<HealthCheck, { type: "exec" }>, cwd: string, who: { app: string; version: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    let output = "";
    const keep = (b: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output = (output + b.toString("utf8")).slice(0, OUTPUT_LIMIT);
    };
    const child = spawn(check.argv[0]!, check.argv.slice(1), {
      cwd,
      detached: true, // its own process group, so the timeout kills what it started too
      stdio: ["ignore", "pipe", "pipe"],
      // A clean environment: the agent's own (the console's session) is none of the check's business.
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", KEEL_APP: who.app, KEEL_VERSION: who.version, KEEL_APP_DIR: cwd } as unknown as NodeJS.ProcessEnv,
    });
    child.stdout.on("data", () => undefined); // drained, not kept: stderr says why a check failed
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, check.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, outcome: `could not start ${check.argv[0]}: ${e.message}`, output });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, outcome: `killed after the ${check.timeoutMs} ms timeout`, output: output.trim() });
      else resolve({ ok: code === 0, outcome: code === null ? `killed by ${signal}` : `exit ${code}`, output: output.trim() });
    });
  });
}

async function runHttp(check: Extract<HealthCheck, { type: "http" }>): Promise<Outcome> {
  try {
    const res = await fetch(check.url, { signal: AbortSignal.timeout(check.timeoutMs), redirect: "manual" });
    const body = (await res.text().catch(() => "")).slice(0, OUTPUT_LIMIT).trim();
    return { ok: res.status === check.expectStatus, outcome: `status ${res.status} (expected ${check.expectStatus})`, output: body };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why = err.name === "TimeoutError" ? `no answer within ${check.timeoutMs} ms` : `${err.message}${err.cause ? `: ${err.cause.message}` : ""}`;
    return { ok: false, outcome: why, output: "" };
  }
}
