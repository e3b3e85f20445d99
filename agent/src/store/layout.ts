// Paths of the on-host store (DESIGN.md "The host side"). All names passed in are validated before.
//   apps/<app>/<version>/            the installed tree (read-only subvolume, or plain directory)
//   apps/<app>/current, previous     symlinks to "<version>", switched by rename(2)
//   apps/<app>/.meta/<version>.json  the verified manifest (+ received UUID) of each installed version
//   .staging/<op>/                   work in progress of one operation; garbage after a crash
//   .journal/<op>.json               intent records, replayed or discarded on start
//   .run/agent.sock                  the resident agent's socket (agent/protocol/resident.ts)
import { join } from "node:path";
import { DEFAULT_STORE, residentSocketPath } from "../../protocol";

export { DEFAULT_STORE };
export const DEFAULT_TRUSTED = "/etc/keel/trusted.d";

export class StoreLayout {
  constructor(readonly root: string) {}
  get residentSocket(): string {
    return residentSocketPath(this.root);
  }
  get apps(): string {
    return join(this.root, "apps");
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
