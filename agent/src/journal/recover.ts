// Recovery on every start (under the store lock): complete or undo each journaled intent, then
// empty `.staging`, drop temporary files and metadata of versions that do not exist.
// Commit points: a version exists once apps/<app>/<version> exists (its metadata is written
// before, removed after); a switch has happened once `current` names the new version.
import { existsSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { AgentContext } from "../context";
import { faultPoint } from "../fault";
import { fsInfo } from "../store/detect";
import { fsyncDir } from "../store/fs-util";
import { removeTempPointers, switchPointers } from "../store/pointers";
import { removeTree } from "../store/remove-tree";
import { listApps, readPointer } from "../store/state";
import { clearIntent, readIntents, type Intent } from "./journal";
import type { StoreLayout } from "../store/layout";
import { allSections } from "../store/sections";

export interface RecoveryReport {
  intents: { op: string; kind: string; outcome: string }[];
  stagingRemoved: number;
}

async function recoverIntent(ctx: AgentContext, intent: Intent, isBtrfs: boolean): Promise<string> {
  const layout = ctx.layout.inSection(intent.section === "runtimes" ? "runtimes" : "apps");
  const app = intent.app;
  if (!existsSync(layout.app(app))) return "nothing to do";
  const current = readPointer(layout.current(app));
  const previous = readPointer(layout.previous(app));
  switch (intent.kind) {
    case "receive": {
      // Either committed (version dir exists) or not; staging and orphan metadata are swept below.
      // A build creates the version directory first and commits by writing its metadata.
      const dir = layout.version(app, intent.version);
      if (intent.building && existsSync(dir) && !existsSync(layout.meta(app, intent.version))) {
        await removeTree(dir, isBtrfs);
        return "undone";
      }
      return existsSync(dir) ? "completed" : "undone";
    }
    case "switch":
      if (current === intent.to.current) {
        switchPointers(layout, app, intent.to);
        return "completed";
      }
      switchPointers(layout, app, intent.from);
      return "undone";
    case "remove": {
      const v = intent.version;
      if (existsSync(layout.version(app, v)) && v !== current && v !== previous) {
        await removeTree(layout.version(app, v), isBtrfs);
      }
      return "completed";
    }
  }
}

export async function recover(ctx: AgentContext): Promise<RecoveryReport> {
  const { layout } = ctx;
  const isBtrfs = fsInfo(layout.root).isBtrfs;
  const report: RecoveryReport = { intents: [], stagingRemoved: 0 };
  const records = readIntents(layout);
  if (records.length) faultPoint("recover.started");
  for (const { file, intent } of records) {
    if (intent) {
      const outcome = await recoverIntent(ctx, intent, isBtrfs);
      report.intents.push({ op: intent.op, kind: intent.kind, outcome });
      clearIntent(layout, intent.op);
    } else {
      unlinkSync(file);
    }
  }
  for (const name of readdirSync(layout.staging)) {
    await removeTree(join(layout.staging, name), isBtrfs);
    report.stagingRemoved++;
  }
  if (report.stagingRemoved) fsyncDir(layout.staging);
  for (const section of allSections(ctx.layout)) sweepSection(section);
  return report;
}

/** Temporary pointers of dead agents and metadata of versions that do not exist. */
function sweepSection(layout: StoreLayout): void {
  for (const app of listApps(layout)) {
    removeTempPointers(layout, app);
    const metaDir = layout.metaDir(app);
    if (!existsSync(metaDir)) continue;
    for (const name of readdirSync(metaDir)) {
      const m = /^(.+)\.json$/.exec(name);
      const orphan = name.startsWith(".") || !m || !m[1] || !existsSync(layout.version(app, m[1]));
      if (orphan) unlinkSync(join(metaDir, name));
    }
  }
}
