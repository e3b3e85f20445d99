// Intent records: before an operation changes the store it writes what it is about to do to
// `.journal/<op>.intent` (durably); after it is done it deletes the record. A record found on start
// belongs to an agent that died mid-way, and recover() completes or undoes it.
import { randomBytes } from "node:crypto";
import { readdirSync, readlinkSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fsyncDir } from "../store/fs-util";
import type { StoreLayout } from "../store/layout";
import type { StoreSection } from "../../protocol";

/** An operation in flight. `from`/`to` are the current/previous pointers before and after. */
export type Intent =
  /** building: the version directory is created before its metadata (build); undo removes it. */
  (
    | { kind: "receive"; op: string; app: string; version: string; building?: boolean }
    | {
        kind: "switch";
        op: string;
        app: string;
        from: { current: string | null; previous: string | null };
        to: { current: string; previous: string | null };
      }
    | { kind: "remove"; op: string; app: string; version: string }
  ) & { /** Set by writeIntent for the runtimes/ section. */ section?: StoreSection };

export function newOpId(): string {
  return `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * An intent is stored as the target text of a symlink `.journal/<op>.intent`: a symlink is created
 * with its content in one step, so one fsync of the directory makes it durable (no torn records,
 * no separate file fsync — this keeps activate fast).
 */
export function writeIntent(layout: StoreLayout, intent: Intent): void {
  const record = layout.section === "apps" ? intent : { ...intent, section: layout.section };
  symlinkSync(JSON.stringify(record), join(layout.journal, `${intent.op}.intent`));
  fsyncDir(layout.journal);
}

/**
 * Drops a finished intent. Not fsynced: if a power loss brings it back, recovery finds the
 * operation complete and only removes the record again.
 */
export function clearIntent(layout: StoreLayout, op: string): void {
  try {
    unlinkSync(join(layout.journal, `${op}.intent`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** Intents left behind, oldest first; unreadable records (torn tmp files) are returned as null. */
export function readIntents(layout: StoreLayout): { file: string; intent: Intent | null }[] {
  let names: string[];
  try {
    names = readdirSync(layout.journal);
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const file = join(layout.journal, name);
    if (!name.endsWith(".intent") || name.startsWith(".")) return { file, intent: null };
    try {
      return { file, intent: JSON.parse(readlinkSync(file, "utf8")) as Intent };
    } catch {
      return { file, intent: null };
    }
  });
}
