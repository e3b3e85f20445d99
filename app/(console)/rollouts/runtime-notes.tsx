// Runtimes on a plan (decision 0023): per host, the runtime a release's requirement installs
// before the app; for a runtime's own rollout, the installed apps that use it.
import type { RolloutPlan } from "@/app/_trpc/outputs";

type Step = NonNullable<RolloutPlan["hosts"][number]["runtimes"]>[number];
type RuntimeUse = NonNullable<RolloutPlan["affects"]>[number];

export function RuntimeSteps({ runtimes }: { runtimes?: Step[] | null }) {
  if (!runtimes?.length) return null;
  return (
    <>
      {runtimes.map((r) => (
        <span key={r.runtime} className="block text-xs" data-testid="plan-runtime">
          + runtime {r.runtime} {r.from ?? "—"} → {r.to} first (
          {r.stream === "delta" ? `delta from ${r.parent}` : r.stream}; needs {r.versions})
        </span>
      ))}
    </>
  );
}

export function RuntimeAffects({ kind, affects }: { kind?: string | null; affects?: RuntimeUse[] | null }) {
  if (kind !== "runtime") return null;
  return (
    <p className="text-sm" aria-label="Apps using this runtime">
      Runtime. Apps on its hosts that use it:{" "}
      {affects?.length
        ? affects
            .map(
              (a) =>
                `${a.app} ${a.version} (needs ${a.versions}, ${a.hosts} host${a.hosts === 1 ? "" : "s"})`,
            )
            .join("; ")
        : "none"}
      .
    </p>
  );
}
