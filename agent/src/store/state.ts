// Reading the store: which apps and versions are installed, their recorded manifests, and the
// current/previous symlinks. Entries whose names are not valid app names/versions are ignored.
import { existsSync, readdirSync, readFileSync, accessSync, constants, lstatSync } from "node:fs";
import {
  isValidAppName,
  isValidVersion,
  sortVersions,
  validateManifest,
  type ReleaseManifest,
  type StoreBackend,
} from "../../protocol";
import { readLinkOrNull } from "./fs-util";
import type { StoreLayout } from "./layout";

/** What the agent records next to each installed version (apps/<app>/.meta/<version>.json). */
export interface VersionMeta {
  manifest: ReleaseManifest;
  receivedUuid: string | null;
  backend: StoreBackend;
  installedAt: string;
}

export function readMeta(layout: StoreLayout, app: string, version: string): VersionMeta | null {
  let text: string;
  try {
    text = readFileSync(layout.meta(app, version), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const raw = JSON.parse(text) as VersionMeta;
  return { ...raw, manifest: validateManifest(raw.manifest) };
}

export function listApps(layout: StoreLayout): string[] {
  if (!existsSync(layout.apps)) return [];
  return readdirSync(layout.apps).filter(isValidAppName).sort();
}

/** Installed version directories of an app, oldest first. */
export function listVersions(layout: StoreLayout, app: string): string[] {
  const dir = layout.app(app);
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!isValidVersion(name)) continue;
    const st = lstatSync(`${dir}/${name}`);
    if (st.isDirectory()) out.push(name);
  }
  return sortVersions(out);
}

/** Target of current/previous, or null when absent (or pointing at something that is not a version). */
export function readPointer(path: string): string | null {
  const t = readLinkOrNull(path);
  return t !== null && isValidVersion(t) ? t : null;
}

export function isReadOnlyTree(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EROFS") return true;
    throw e;
  }
}
