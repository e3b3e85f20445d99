// `activate APP VERSION [--rollback]` and `rollback APP`: switch `current` by symlink rename; the
// old current becomes `previous`. Nothing is sent or received. Activating a version older than
// current is refused unless --rollback says so, so that an old signed release cannot be replayed
// as an update.
import { existsSync } from "node:fs";
import {
  compareVersions,
  type ActivateArgs,
  type ActivateResult,
  type RollbackArgs,
  type RollbackResult,
} from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
import { clearIntent, newOpId, writeIntent } from "../journal/journal";
import { switchPointers } from "../store/pointers";
import { applyExports, checkExports } from "../exports";
import { readMeta, readPointer } from "../store/state";
import { checkSwitch } from "../store/requirements";

function requireInstalled(ctx: AgentContext, app: string, version: string, step: string): void {
  const { layout } = ctx;
  if (!existsSync(layout.version(app, version)) || !readMeta(layout, app, version)) {
    throw new AgentError(
      "NOT_FOUND",
      step,
      `${app} ${version} is not installed on this host; receive it first`,
    );
  }
}

function doSwitch(
  ctx: AgentContext,
  app: string,
  target: string,
  step: string,
  together?: ActivateArgs["together"],
): ActivateResult {
  const { layout } = ctx;
  const current = readPointer(layout.current(app));
  const previous = readPointer(layout.previous(app));
  const exportsOf = (v: string | null) => (v ? readMeta(layout, app, v)?.manifest.exports : undefined);
  if (current === target) {
    applyExports(ctx, app, undefined, exportsOf(target)); // repairs a removed link
    return { app, current: target, previous, changed: false };
  }
  if (together)
    requireInstalled({ ...ctx, layout: ctx.layout.inSection("apps") }, together.app, together.version, step);
  checkSwitch(layout, app, target, step, together);
  // Exports are checked before anything moves: a refused one leaves the host as it was.
  const meta = readMeta(layout, app, target);
  if (meta) checkExports(ctx, app, target, meta.manifest, step);
  const to = { current: target, previous: current };
  const op = newOpId();
  writeIntent(layout, { kind: "switch", op, app, from: { current, previous }, to });
  try {
    switchPointers(layout, app, to);
  } catch (e) {
    throw new AgentError("IO_ERROR", step, `switching ${app} to ${target} failed: ${(e as Error).message}`);
  }
  clearIntent(layout, op);
  try {
    applyExports(ctx, app, exportsOf(current), meta?.manifest.exports);
  } catch (e) {
    throw new AgentError(
      "IO_ERROR",
      step,
      `${app} ${target} is current, but linking its exports failed: ${(e as Error).message}; activate it again`,
    );
  }
  return { app, current: target, previous: current, changed: true };
}

export function activate(ctx: AgentContext, args: ActivateArgs): ActivateResult {
  const { app, version } = args;
  requireInstalled(ctx, app, version, "activate");
  const current = readPointer(ctx.layout.current(app));
  if (current && current !== version && compareVersions(version, current) < 0 && !args.rollback) {
    throw new AgentError(
      "REPLAY_REFUSED",
      "activate",
      `${app} ${version} is older than the current ${current}; going back needs an explicit rollback (--rollback)`,
      { current, requested: version },
    );
  }
  return doSwitch(ctx, app, version, "activate", args.together);
}

export function rollback(ctx: AgentContext, args: RollbackArgs): RollbackResult {
  const { app } = args;
  const { layout } = ctx;
  if (!existsSync(layout.app(app)))
    throw new AgentError("NOT_FOUND", "rollback", `${app} is not installed on this host`);
  const previous = readPointer(layout.previous(app));
  if (!previous)
    throw new AgentError("NO_PREVIOUS", "rollback", `${app} has no previous version to roll back to`);
  requireInstalled(ctx, app, previous, "rollback");
  return doSwitch(ctx, app, previous, "rollback");
}
