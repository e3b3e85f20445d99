// The health check a build declares (from the CLI's --health-* flags or the build form), checked
// with clear messages before anything is built, then recorded in the signed manifests. It is an
// argv (run on the host after activation, without a shell, as the unprivileged user keel-check
// unless it says runAs "root") or an HTTP URL fetched on the host with an expected status; both
// with a timeout. Pure (no Node I/O) so the CLI uses it too.
import {
  ProtocolInputError,
  canonicalJson,
  runsAsRoot,
  validateHealthCheck,
  type HealthCheck,
} from "@/agent/protocol";
import { AppError } from "@/server/errors";

export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;
export const MAX_HEALTH_TIMEOUT_MS = 3_600_000;
/** What the upload route accepts as its `healthCheck` parameter (it travels in the URL). */
export const MAX_HEALTH_CHECK_JSON = 8 * 1024;

/** What people give: timeout and expected status may be left out; runAs defaults to unprivileged. */
export type HealthCheckInput =
  | { type: "exec"; argv: string[]; timeoutMs?: number; runAs?: "root" | "unprivileged" }
  | { type: "http"; url: string; expectStatus?: number; timeoutMs?: number };

function bad(message: string): never {
  throw new AppError("BAD_REQUEST", { message: `health check: ${message}` });
}

/**
 * Checks a health check and fills in the defaults (timeout 30 s, status 200). Refuses, naming
 * the problem: an empty argv, a program given as a shell string ("curl -f http://…" in one
 * argument) or by a relative path, a URL that is not http(s), a status outside 100–599, a timeout
 * outside 1 ms – 1 h, and unknown fields.
 */
export function parseHealthCheck(v: unknown): HealthCheck {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    bad("must be an object with a type (exec or http)");
  const o = v as Record<string, unknown>;
  const withDefaults: Record<string, unknown> = { ...o };
  if (o.timeoutMs === undefined) withDefaults.timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS;
  if (o.type === "http" && o.expectStatus === undefined) withDefaults.expectStatus = 200;
  // Unprivileged is the default; the manifest then carries no runAs (as every older one), so
  // only a root check is marked — and a check built either way has one form.
  if (o.runAs === "unprivileged") delete withDefaults.runAs;
  if (o.type === "http" && o.runAs !== undefined)
    bad("runAs is for a command (exec); an HTTP check runs no command on the host");
  if (o.type === "exec" && Array.isArray(o.argv)) {
    const program = o.argv[0];
    if (typeof program === "string") {
      if (/\s/.test(program))
        bad(
          `the program ${JSON.stringify(program)} contains white space: give the command as separate arguments (argv), not as a shell string; to use a shell, say so: ["/bin/sh", "-c", "…"]`,
        );
      if (program.includes("/") && !program.startsWith("/"))
        bad(
          `the program ${JSON.stringify(program)} must be an absolute path (or a name looked up in PATH on the host)`,
        );
    }
  }
  if (o.type === "http" && typeof o.url === "string") {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      bad(`${JSON.stringify(o.url)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      bad(`the URL must be http:// or https://, not ${url.protocol}`);
  }
  try {
    return validateHealthCheck(withDefaults, "healthCheck");
  } catch (e) {
    if (e instanceof ProtocolInputError) {
      const what = e.path.replace(/^healthCheck\.?/, "") || "it";
      const message = e.message.slice(e.path.length + 2);
      if (message === "unknown field") bad(`unknown field ${what}`);
      if (e.path === "healthCheck.type") bad("type must be exec (a command) or http (a URL)");
      if (e.path === "healthCheck.runAs") bad('runAs must be "root" or "unprivileged" (the default)');
      if (e.path.endsWith(".timeoutMs") && /between/.test(message))
        bad(`the timeout must be between 1 ms and ${MAX_HEALTH_TIMEOUT_MS / 60_000} minutes`);
      if (e.path.endsWith(".expectStatus") && /between/.test(message))
        bad("the expected status must be an HTTP status (100–599)");
      if (/^healthCheck\.argv$/.test(e.path) && /empty/.test(message))
        bad("the command needs at least the program to run");
      if (/^healthCheck\.argv\[\d+\]$/.test(e.path) && /at least/.test(message))
        bad(`argument ${e.path.match(/\d+/)![0]} of the command is empty`);
      bad(`${what} ${message}`);
    }
    throw e;
  }
}

/** The upload route's `healthCheck` parameter (JSON), or undefined when absent. */
export function parseHealthCheckParam(param: string | null): HealthCheck | undefined {
  if (param === null || param === "") return undefined;
  if (param.length > MAX_HEALTH_CHECK_JSON) bad(`is longer than ${MAX_HEALTH_CHECK_JSON} characters`);
  let v: unknown;
  try {
    v = JSON.parse(param);
  } catch {
    bad("the healthCheck parameter must be JSON");
  }
  return parseHealthCheck(v);
}

export function sameHealthCheck(a: HealthCheck | undefined, b: HealthCheck | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** One line for people: what the check runs, as whom, and its timeout. */
export function describeHealthCheck(h: HealthCheck): string {
  const t = h.timeoutMs % 1000 === 0 ? `${h.timeoutMs / 1000} s` : `${h.timeoutMs} ms`;
  return h.type === "exec"
    ? `runs ${JSON.stringify(h.argv)} ${runsAsRoot(h) ? "AS ROOT" : "as the unprivileged user keel-check"} (timeout ${t})`
    : `GET ${h.url} expects ${h.expectStatus} (timeout ${t})`;
}

/** "30s", "1500ms", "2m", "45" (seconds) → milliseconds; null when not a duration. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  return Number.isFinite(n) ? Math.round(n) : null;
}
