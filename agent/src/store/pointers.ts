// current/previous symlinks. A pointer changes only by rename(2) of a freshly written symlink over
// the old one, so a reader (or a crash) sees the old target or the new one, never nothing.
import { renameSync, symlinkSync, unlinkSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { faultPoint } from "../fault";
import { fsyncDir } from "./fs-util";
import type { StoreLayout } from "./layout";
import { readPointer } from "./state";

export type PointerName = "current" | "previous";

export function setPointer(layout: StoreLayout, app: string, name: PointerName, target: string | null): void {
  const dir = layout.app(app);
  const path = join(dir, name);
  if (target === null) {
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return;
  }
  if (readPointer(path) === target) return;
  const tmp = join(dir, `.${name}.new-${process.pid}`);
  try {
    unlinkSync(tmp);
  } catch {
    /* not there */
  }
  symlinkSync(target, tmp);
  if (name === "current") faultPoint("activate.symlink-written");
  renameSync(tmp, path);
  if (name === "current") faultPoint("activate.renamed");
}

/** Points current (and previous) at new targets; the caller holds the lock and journals the intent. */
export function switchPointers(
  layout: StoreLayout,
  app: string,
  to: { current: string | null; previous: string | null },
): void {
  // One directory fsync covers both renames: the intent is already durable, so a power loss
  // before it leaves a state recovery completes or undoes.
  setPointer(layout, app, "current", to.current);
  setPointer(layout, app, "previous", to.previous);
  faultPoint("activate.previous-renamed");
  fsyncDir(layout.app(app));
  faultPoint("activate.fsynced");
}

/** Removes half-made temporary symlinks (`.current.new-<pid>`) of dead agents. */
export function removeTempPointers(layout: StoreLayout, app: string): void {
  for (const name of readdirSync(layout.app(app))) {
    if (/^\.(current|previous)\.new-\d+$/.test(name)) unlinkSync(join(layout.app(app), name));
  }
}
