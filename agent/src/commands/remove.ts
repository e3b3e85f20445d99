// `remove APP VERSION` and `gc [APP] --keep N`: delete installed versions, never current or
// previous. The version directory disappears first (the commit point), its metadata after.
import { existsSync, unlinkSync } from "node:fs";
import type { GcArgs, GcResult, RemoveArgs, RemoveResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
import { faultPoint } from "../fault";
import { clearIntent, newOpId, writeIntent } from "../journal/journal";
import { fsInfo } from "../store/detect";
import { fsyncDir } from "../store/fs-util";
import { removeTree } from "../store/remove-tree";
import { listApps, listVersions, readPointer } from "../store/state";
import { runtimeVersionsInUse } from "../store/requirements";
import { allSections } from "../store/sections";

async function removeVersion(
  ctx: AgentContext,
  app: string,
  version: string,
  step: string,
): Promise<boolean> {
  const { layout } = ctx;
  const current = readPointer(layout.current(app));
  const previous = readPointer(layout.previous(app));
  if (version === current || version === previous) {
    throw new AgentError(
      "IN_USE",
      step,
      `${app} ${version} is ${version === current ? "current" : "previous"} and cannot be removed`,
    );
  }
  const users =
    layout.section === "runtimes"
      ? runtimeVersionsInUse(layout, app, listVersions(layout, app)).get(version)
      : undefined;
  if (users)
    throw new AgentError(
      "IN_USE",
      step,
      `runtime ${app} ${version} is needed by ${users.join(", ")} and cannot be removed`,
    );
  if (!existsSync(layout.version(app, version))) {
    try {
      unlinkSync(layout.meta(app, version));
    } catch {
      /* nothing recorded either */
    }
    return false;
  }
  const op = newOpId();
  writeIntent(layout, { kind: "remove", op, app, version });
  try {
    await removeTree(layout.version(app, version), fsInfo(layout.root).isBtrfs);
    fsyncDir(layout.app(app));
    faultPoint("remove.deleted");
    unlinkSync(layout.meta(app, version));
    fsyncDir(layout.metaDir(app));
  } catch (e) {
    throw new AgentError("IO_ERROR", step, `removing ${app} ${version} failed: ${(e as Error).message}`);
  }
  clearIntent(layout, op);
  return true;
}

export async function remove(ctx: AgentContext, args: RemoveArgs): Promise<RemoveResult> {
  return {
    app: args.app,
    version: args.version,
    removed: await removeVersion(ctx, args.app, args.version, "remove"),
  };
}

export async function gc(ctx: AgentContext, args: GcArgs): Promise<GcResult> {
  // One app (in its kind's section), or every app and every runtime.
  const sections = args.app ? [ctx.layout.forKind(args.kind)] : allSections(ctx.layout);
  const removed: GcResult["removed"] = [];
  for (const layout of sections) await gcSection({ ...ctx, layout }, args, removed);
  return { removed };
}

async function gcSection(ctx: AgentContext, args: GcArgs, removed: GcResult["removed"]): Promise<void> {
  const { layout } = ctx;
  const apps = args.app ? [args.app] : listApps(layout);
  for (const app of apps) {
    const current = readPointer(layout.current(app));
    const previous = readPointer(layout.previous(app));
    const versions = listVersions(layout, app);
    // Newest first; current and previous always stay and count towards --keep.
    const keep = new Set([current, previous].filter((v): v is string => v !== null));
    // A runtime version an installed app's current or previous version needs stays too (not counted).
    const inUse =
      layout.section === "runtimes"
        ? runtimeVersionsInUse(layout, app, versions)
        : new Map<string, string[]>();
    for (const v of [...versions].reverse()) if (keep.size < args.keep) keep.add(v);
    for (const v of versions) {
      if (keep.has(v) || inUse.has(v)) continue;
      await removeVersion(ctx, app, v, "gc");
      removed.push({
        app,
        version: v,
        ...(layout.section === "runtimes" ? { kind: "runtime" as const } : {}),
      });
      faultPoint("gc.removed-one");
    }
  }
}
