// Runtime requirements on the host (decision 0023): an app's signed manifest may require runtimes
// by version range; a requirement is met when the runtime's `current` satisfies it. The agent
// checks it again at every switch — whatever the console planned — and keeps the runtime versions
// installed apps need out of gc and remove.
import { newestSatisfying, satisfies, type RuntimeRequirement } from "../../protocol";
import { AgentError } from "../errors";
import type { StoreLayout } from "./layout";
import { listApps, readMeta, readPointer } from "./state";

function requiresOf(layout: StoreLayout, app: string, version: string | null): RuntimeRequirement[] {
  if (!version) return [];
  return readMeta(layout, app, version)?.manifest.requires ?? [];
}

/** Refuses a switch of `app` (in the layout's section) to `target` that would leave a requirement unmet. */
export function checkSwitch(
  layout: StoreLayout,
  app: string,
  target: string,
  step: string,
  together?: { app: string; version: string },
): void {
  if (layout.section === "apps") {
    const runtimes = layout.inSection("runtimes");
    for (const r of requiresOf(layout, app, target)) {
      const current = readPointer(runtimes.current(r.runtime));
      if (current && satisfies(current, r.versions)) continue;
      throw new AgentError(
        "REQUIREMENT_UNMET",
        step,
        current
          ? `${app} ${target} requires runtime ${r.runtime} ${r.versions}, but this host's current ${r.runtime} is ${current}; update the runtime first`
          : `${app} ${target} requires runtime ${r.runtime} ${r.versions}, which is not installed on this host; install it first`,
        { runtime: r.runtime, versions: r.versions, current },
      );
    }
    return;
  }
  const apps = layout.inSection("apps");
  const broken = listApps(apps).flatMap((a) => {
    // The app this runtime changes together with is judged by the version it is about to run.
    const cur = together?.app === a ? together.version : readPointer(apps.current(a));
    return requiresOf(apps, a, cur)
      .filter((r) => r.runtime === app && !satisfies(target, r.versions))
      .map((r) => `${a} ${cur} needs ${r.versions}`);
  });
  if (broken.length) {
    throw new AgentError(
      "REQUIREMENT_UNMET",
      step,
      `runtime ${app} ${target} would break installed apps: ${broken.join("; ")}`,
      { runtime: app, version: target, broken },
    );
  }
}

/**
 * Runtime versions that installed apps need: for each requirement of every app's current and
 * previous version, the newest installed runtime version that satisfies it.
 */
export function runtimeVersionsInUse(
  layout: StoreLayout,
  runtime: string,
  installed: readonly string[],
): Map<string, string[]> {
  const apps = layout.inSection("apps");
  const used = new Map<string, string[]>();
  for (const a of listApps(apps)) {
    for (const v of new Set([readPointer(apps.current(a)), readPointer(apps.previous(a))])) {
      for (const r of requiresOf(apps, a, v)) {
        if (r.runtime !== runtime) continue;
        const keep = newestSatisfying(installed, r.versions);
        if (keep) used.set(keep, [...(used.get(keep) ?? []), `${a} ${v}`]);
      }
    }
  }
  return used;
}
