// What a release does when it becomes current (issue 17; docs/decisions/0022-activation-hooks-and-exports.md):
// `onActivate`, a command the agent runs after `current` moves (argv, no shell unless `shell`), and
// `exports`, files of the version's tree the agent links into allow-listed host directories through
// `current`. Both are part of the signed manifest; nobody between builder and host can add them.
import { ProtocolInputError, arr, bool, int, obj, oneOf, str } from "./check";
import { RUN_AS, type RunAs } from "./manifest";

export interface OnActivate {
  argv: string[];
  timeoutMs: number;
  /** Absent or "unprivileged": the agent's user keel-check; "root" only when the manifest says so. */
  runAs?: RunAs;
  /** true: argv is one string run by `/bin/sh -c`. Absent: argv runs as is, no shell. */
  shell?: boolean;
}

/** One exported file: `<dir>/<name>` becomes a symlink to `<store>/apps/<app>/current/<from>`. */
export interface ExportDecl {
  /** Relative path inside the version's tree (no `..`, no leading `/`). */
  from: string;
  /** Absolute host directory; must be on the host agent's allow-list (/etc/keel/agent.json). */
  dir: string;
  /** File name in `dir` (default: the last part of `from`). */
  name?: string;
}

/** An export as the agent reports it in facts. */
export interface ExportFact {
  path: string;
  target: string;
}

export const MAX_EXPORTS = 16;
/** The directories exports may go to when the host's agent.json names none. */
export const DEFAULT_EXPORT_DIRS = ["/etc/systemd/system", "/usr/local/bin"] as const;
const SEGMENT = /^[A-Za-z0-9@_+:,=-][A-Za-z0-9@._+:,=-]{0,127}$/;

/** A relative path of plain segments (no `.`, `..`, empty parts, leading `/`). */
export function relPathProblem(v: string): string | null {
  if (v.length > 1024) return "is longer than 1024 characters";
  const parts = v.split("/");
  for (const s of parts) {
    if (s === "." || s === "..") return `must not contain "${s}"`;
    if (!SEGMENT.test(s))
      return `has a bad part ${JSON.stringify(s)} (letters, digits, @._+:,=- only; no leading dot, no empty part)`;
  }
  return null;
}

function absDir(v: unknown, path: string): string {
  const s = str(v, path, { max: 1024 });
  if (!s.startsWith("/") || s === "/" || s.endsWith("/"))
    throw new ProtocolInputError(path, "must be an absolute directory without a trailing /");
  const p = relPathProblem(s.slice(1));
  if (p) throw new ProtocolInputError(path, p);
  return s;
}

export function validateOnActivate(v: unknown, path = "onActivate"): OnActivate {
  const o = obj(v, path, ["argv", "timeoutMs", "runAs", "shell"]);
  const argv = arr(o.argv, `${path}.argv`, 64, (x, p) => str(x, p, { min: 1, max: 4096 }));
  if (argv.length === 0) throw new ProtocolInputError(`${path}.argv`, "must not be empty");
  const h: OnActivate = { argv, timeoutMs: int(o.timeoutMs, `${path}.timeoutMs`, 1, 3_600_000) };
  // Kept exactly as given: the signature covers the manifest's bytes.
  if (o.runAs !== undefined) h.runAs = oneOf(o.runAs, `${path}.runAs`, RUN_AS);
  if (o.shell !== undefined) {
    h.shell = bool(o.shell, `${path}.shell`);
    if (h.shell && argv.length !== 1)
      throw new ProtocolInputError(
        `${path}.argv`,
        "must be one string (the shell command) when shell is true",
      );
  }
  return h;
}

export function validateExports(v: unknown, path = "exports"): ExportDecl[] {
  const out = arr(v, path, MAX_EXPORTS, (x, p) => {
    const o = obj(x, p, ["from", "dir", "name"]);
    const from = str(o.from, `${p}.from`, { min: 1 });
    const bad = relPathProblem(from);
    if (bad) throw new ProtocolInputError(`${p}.from`, bad);
    const e: ExportDecl = { from, dir: absDir(o.dir, `${p}.dir`) };
    if (o.name !== undefined) {
      e.name = str(o.name, `${p}.name`, { pattern: SEGMENT });
    }
    return e;
  });
  const seen = new Set<string>();
  for (const e of out) {
    const t = exportPath(e);
    if (seen.has(t)) throw new ProtocolInputError(path, `exports ${t} twice`);
    seen.add(t);
  }
  return out;
}

/** Where an export lands on the host. */
export function exportPath(e: ExportDecl): string {
  return `${e.dir}/${e.name ?? e.from.split("/").pop()}`;
}

/** True when the activation hook runs as root (only when its manifest says `runAs: "root"`). */
export function hookRunsAsRoot(h: OnActivate | undefined | null): boolean {
  return h?.runAs === "root";
}

/** The argv the agent executes: as declared, or `/bin/sh -c CMD` when the manifest asks for a shell. */
export function hookArgv(h: OnActivate): string[] {
  return h.shell ? ["/bin/sh", "-c", h.argv[0]!] : h.argv;
}

/** hook: run the onActivate of the installed version's signed manifest (default: current). */
export interface HookArgs {
  app: string;
  version?: string;
}

export interface HookResult {
  app: string;
  version: string;
  /** False when the version's manifest declares no onActivate (nothing ran). */
  ran: boolean;
  ok: boolean;
  /** "exit N", "killed after the N ms timeout", "not run: …". */
  outcome: string;
  exitCode: number | null;
  durationMs: number;
  /** The last 2 KiB of the hook's stderr. */
  stderrTail: string;
  user?: string;
}

/** What a build records about activation (CLI `--on-activate` / `--export`, the build form). */
export interface Activation {
  onActivate?: OnActivate;
  exports?: ExportDecl[];
}

export function validateActivation(v: unknown, path = "activation"): Activation {
  const o = obj(v, path, ["onActivate", "exports"]);
  const a: Activation = {};
  if (o.onActivate !== undefined) a.onActivate = validateOnActivate(o.onActivate, `${path}.onActivate`);
  if (o.exports !== undefined) a.exports = validateExports(o.exports, `${path}.exports`);
  return a;
}
