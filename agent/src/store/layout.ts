// Paths of the on-host store (DESIGN.md "The host side"). All names passed in are validated before.
//   apps/<app>/<version>/            the installed tree (read-only subvolume, or plain directory)
//   apps/<app>/current, previous     symlinks to "<version>", switched by rename(2)
//   apps/<app>/.meta/<version>.json  the verified manifest (+ received UUID) of each installed version
//   runtimes/<name>/…                the same for releases of kind runtime (a layout's `section`)
//   .staging/<op>/                   work in progress of one operation; garbage after a crash
//   .journal/<op>.json               intent records, replayed or discarded on start
//   .run/agent.sock                  the resident agent's socket (agent/protocol/resident.ts)
import { join } from "node:path";
import { DEFAULT_STORE, residentSocketPath, sectionOf, type StoreSection } from "../../protocol";

export { DEFAULT_STORE };
export const DEFAULT_TRUSTED = "/etc/keel/trusted.d";

export class StoreLayout {
  constructor(
    readonly root: string,
    readonly section: StoreSection = "apps",
  ) {}
  /** The same store, in the section a release kind lives in (runtimes/ for runtimes). */
  forKind(kind: string | undefined): StoreLayout {
    return this.inSection(sectionOf(kind));
  }
  inSection(section: StoreSection): StoreLayout {
    return section === this.section ? this : new StoreLayout(this.root, section);
  }
  get residentSocket(): string {
    return residentSocketPath(this.root);
  }
  /** The section's directory: apps/ or runtimes/. */
  get apps(): string {
    return join(this.root, this.section);
  }
  get staging(): string {
    return join(this.root, ".staging");
  }
  get journal(): string {
    return join(this.root, ".journal");
  }
  app(app: string): string {
    return join(this.apps, app);
  }
  version(app: string, version: string): string {
    return join(this.apps, app, version);
  }
  metaDir(app: string): string {
    return join(this.apps, app, ".meta");
  }
  meta(app: string, version: string): string {
    return join(this.apps, app, ".meta", `${version}.json`);
  }
  current(app: string): string {
    return join(this.apps, app, "current");
  }
  previous(app: string): string {
    return join(this.apps, app, "previous");
  }
  op(op: string): string {
    return join(this.staging, op);
  }
}
