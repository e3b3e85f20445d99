// Exports (decision 0022): files of an app's tree linked into host directories as
// `<dir>/<name> -> <store>/apps/<app>/current/<from>`, so they switch with `current` in one rename.
// Checked before `current` moves (nothing changes when one is refused): the directory is on the
// host's allow-list (agent.json next to trusted.d, i.e. /etc/keel/agent.json; default
// /etc/systemd/system and /usr/local/bin), the source resolves inside the version's tree and is a
// regular file, and the link's place is free or already Keel's link for this app.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  DEFAULT_EXPORT_DIRS,
  exportPath,
  type ExportDecl,
  type ExportFact,
  type ReleaseManifest,
} from "../protocol";
import type { AgentContext } from "./context";
import { AgentError } from "./errors";

/** The host agent's configuration file: next to the trusted keys directory (/etc/keel/agent.json). */
export function agentConfigPath(ctx: AgentContext): string {
  return join(dirname(ctx.trustedDir), "agent.json");
}

/** The directories exports may go to on this host. */
export function exportDirs(ctx: AgentContext): string[] {
  const file = agentConfigPath(ctx);
  if (!existsSync(file)) return [...DEFAULT_EXPORT_DIRS];
  let cfg: { exportDirs?: unknown };
  try {
    cfg = JSON.parse(readFileSync(file, "utf8")) as { exportDirs?: unknown };
  } catch (e) {
    throw new AgentError(
      "EXPORT_REFUSED",
      "exports",
      `${file} is not valid JSON (${(e as Error).message}); fix it on the host`,
    );
  }
  if (cfg.exportDirs === undefined) return [...DEFAULT_EXPORT_DIRS];
  if (
    !Array.isArray(cfg.exportDirs) ||
    !cfg.exportDirs.every((d) => typeof d === "string" && d.startsWith("/"))
  )
    throw new AgentError(
      "EXPORT_REFUSED",
      "exports",
      `${file}: exportDirs must be a list of absolute directories`,
    );
  return cfg.exportDirs as string[];
}

/** The symlink target of an export: through `current`, never a version directory. */
function linkTarget(ctx: AgentContext, app: string, e: ExportDecl): string {
  return join(ctx.layout.current(app), e.from);
}

function ownedBy(ctx: AgentContext, app: string, path: string): "free" | "ours" | "foreign" {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return "free";
  }
  if (!st.isSymbolicLink()) return "foreign";
  return readlinkSync(path).startsWith(ctx.layout.current(app) + "/") ? "ours" : "foreign";
}

/** Throws EXPORT_REFUSED (naming the export and what to do) unless every export of `m` may be made. */
export function checkExports(
  ctx: AgentContext,
  app: string,
  version: string,
  m: ReleaseManifest,
  step: string,
): void {
  if (!m.exports?.length) return;
  const allowed = exportDirs(ctx);
  const tree = realpathSync(ctx.layout.version(app, version));
  for (const e of m.exports) {
    const where = exportPath(e);
    const refuse = (why: string) => {
      throw new AgentError(
        "EXPORT_REFUSED",
        step,
        `${app} ${version}: export ${e.from} -> ${where} refused: ${why}`,
        { export: e },
      );
    };
    if (!allowed.includes(e.dir))
      refuse(
        `${e.dir} is not on this host's allow-list (${allowed.join(", ")}; ${agentConfigPath(ctx)} "exportDirs")`,
      );
    let real: string;
    try {
      real = realpathSync(join(tree, e.from));
    } catch {
      return refuse(`${e.from} does not exist in the version's tree (or is a dangling symlink)`);
    }
    if (!real.startsWith(tree + "/")) refuse(`${e.from} resolves to ${real}, outside the version's tree`);
    if (!lstatSync(real).isFile()) refuse(`${e.from} is not a regular file`);
    if (ownedBy(ctx, app, where) === "foreign")
      refuse(`${where} exists and is not Keel's link for ${app}; move it away first`);
  }
}

/** Makes the exports `now` declares and removes the ones only `before` declared (each by rename). */
export function applyExports(
  ctx: AgentContext,
  app: string,
  before: ExportDecl[] | undefined,
  now: ExportDecl[] | undefined,
): void {
  const keep = new Set((now ?? []).map(exportPath));
  for (const e of before ?? []) {
    const p = exportPath(e);
    if (!keep.has(p) && ownedBy(ctx, app, p) === "ours") unlinkSync(p);
  }
  for (const e of now ?? []) {
    const p = exportPath(e);
    const target = linkTarget(ctx, app, e);
    if (existsSync(p) && ownedBy(ctx, app, p) === "ours" && readlinkSync(p) === target) continue;
    mkdirSync(e.dir, { recursive: true, mode: 0o755 });
    const tmp = join(e.dir, `.keel-export-${process.pid}`);
    try {
      unlinkSync(tmp);
    } catch {
      /* not there */
    }
    symlinkSync(target, tmp);
    renameSync(tmp, p);
  }
}

/** The exports of an app's current version as they are on the host (for facts). */
export function listExports(ctx: AgentContext, app: string, m: ReleaseManifest | undefined): ExportFact[] {
  const out: ExportFact[] = [];
  for (const e of m?.exports ?? []) {
    const p = exportPath(e);
    if (ownedBy(ctx, app, p) === "ours") out.push({ path: p, target: readlinkSync(p) });
  }
  return out;
}
