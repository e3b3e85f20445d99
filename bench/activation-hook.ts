// Activation hook benchmark (`npm run bench:activation-hook`): does a hook add more to a host step
// than its own run time? One lab of N hosts (KEEL_BENCH_HOOK_HOSTS, default 100), one run, two
// apps built from the same small tree with the same exec health check (/bin/true, as keel-check):
// `plain` without a hook (the baseline) and `hooked` with onActivate ["/bin/sleep", "0.5"]
// (KEEL_BENCH_HOOK_SECONDS; 0 = /bin/true). Each is
// installed at 1.0 (not timed), then updated to 2.0 and to 3.0 in one wave, each app on its own half
// of the N hosts; the two apps' rollouts run at the same time, so both see the same load (the
// machine is shared) and no two steps wait for one host's store lock. The host
// steps' durations (rollout_hosts started_at → finished_at) give the medians. The hook's own run
// time is what the agent reports for it: inside the steps (the step's audited commands say
// "onActivate of … in N ms"), and alone (`keel-agent hook hooked 3.0` on its N/2 hosts at once).
// Prints: median step without and with the hook, the difference, the hook's own median run time,
// and their ratio (≤ 1 means the hook costs no more than itself).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { labDown, labExec } from "@/infra/lab/api";
import { startEmbeddedPostgres } from "@/infra/start/postgres";
import { applyMigrations } from "@/prisma/migrate";
import { seedUser } from "@/prisma/seed/fleet";
import { setUpLabFleet, type LabFleet } from "@/server/jobs/rollouts/test-support/lab-fleet";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { buildRelease } from "@/server/services/releases/build-release";

const N = Number(process.env.KEEL_BENCH_HOOK_HOSTS ?? 100);
/** The hook's own work: a sleep of KEEL_BENCH_HOOK_SECONDS (default 0.5); 0 runs /bin/true, to see the machinery alone. */
const HOOK_SECONDS = process.env.KEEL_BENCH_HOOK_SECONDS ?? "0.5";
const HOOK = {
  argv: Number(HOOK_SECONDS) > 0 ? ["/bin/sleep", HOOK_SECONDS] : ["/bin/true"],
  timeoutMs: 30_000,
};
const CHECK = { type: "exec" as const, argv: ["/bin/true"], timeoutMs: 30_000 };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

type Result = { steps: number[]; hookMs: number[] };

async function update(
  fleet: LabFleet,
  actor: { id: string; roles: "operator"[] },
  app: string,
  version: string,
  ids: string[],
): Promise<Result> {
  const r = await createRollout({ db: fleet.db, releases: fleet.deps }, actor, {
    action: "update",
    app,
    version,
    targets: { ids },
    waves: ["100%"],
    failureThreshold: 0,
    parallelism: Math.min(N, 200),
  });
  await startRollout({ db: fleet.db, boss: fleet.worker.boss }, actor, r.id);
  for (;;) {
    const x = await fleet.db.rollout.findUniqueOrThrow({ where: { id: r.id }, include: { hosts: true } });
    if (
      !["running", "approved", "scheduled"].includes(x.state) &&
      !x.hosts.some((h) => h.state === "running" || h.state === "queued")
    ) {
      if (x.state !== "succeeded")
        throw new Error(
          `${app} ${version}: rollout ${x.state}: ${JSON.stringify(
            x.hosts
              .filter((h) => h.error)
              .slice(0, 3)
              .map((h) => h.error),
          )}`,
        );
      // The hook's own time inside each step, as the agent reported it (the step's audited commands).
      const audit = await fleet.db.auditEvent.findMany({
        where: { action: "rollout.host_step", target: `rollout:${x.number}` },
        select: { detail: true },
      });
      const hookMs = audit.flatMap((a) =>
        ((a.detail as { commands?: string[] }).commands ?? [])
          .flatMap((c) => /^onActivate .* in (\d+) ms$/.exec(c)?.[1] ?? [])
          .map(Number),
      );
      return { steps: x.hosts.map((h) => h.finishedAt!.getTime() - h.startedAt!.getTime()), hookMs };
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "keel-bench-hook-"));
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "pg") });
  const lab = "bh" + randomBytes(3).toString("hex");
  let fleet: LabFleet | undefined;
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      void (async () => {
        await (fleet ? fleet.teardown() : labDown(lab)).catch(() => undefined);
        await pg.stop().catch(() => undefined);
        rmSync(work, { recursive: true, force: true });
        process.exit(130);
      })();
    });
  try {
    const url = pg.urlFor("postgres");
    await applyMigrations(url);
    fleet = await setUpLabFleet({
      lab,
      count: N,
      databaseUrl: url,
      environment: "dev",
      concurrency: N,
      sweepMs: 1000,
      heartbeatMs: 5000,
    });
    const actor = (await seedUser(fleet.db, "bench@example.test", ["operator"])) as {
      id: string;
      roles: "operator"[];
    };
    const src = join(work, "src");
    mkdirSync(join(src, "bin"), { recursive: true });
    const build = (app: string, v: string) => {
      writeFileSync(join(src, "VERSION"), `${v}\n`);
      writeFileSync(join(src, "bin", "app"), `#!/bin/sh\necho ${app} ${v}\n`, { mode: 0o755 });
      return buildRelease(fleet!.deps, {
        app,
        version: v,
        source: { dir: src },
        healthCheck: CHECK,
        ...(app === "hooked" ? { activation: { onActivate: HOOK } } : {}),
      });
    };
    for (const app of ["plain", "hooked"]) for (const v of ["1.0", "2.0", "3.0"]) await build(app, v);
    // Each app on its own half of the hosts (no two steps share a host's store lock), both at once.
    const all = (await fleet.db.host.findMany({ select: { id: true }, orderBy: { name: "asc" } })).map(
      (h) => h.id,
    );
    const half = { plain: all.filter((_, i) => i % 2 === 0), hooked: all.filter((_, i) => i % 2 === 1) };
    await Promise.all([
      update(fleet, actor, "plain", "1.0", half.plain),
      update(fleet, actor, "hooked", "1.0", half.hooked),
    ]);
    const plain: number[] = [];
    const hooked: number[] = [];
    const inStep: number[] = [];
    for (const v of ["2.0", "3.0"]) {
      const [p, h] = await Promise.all([
        update(fleet, actor, "plain", v, half.plain),
        update(fleet, actor, "hooked", v, half.hooked),
      ]);
      plain.push(...p.steps);
      hooked.push(...h.steps);
      inStep.push(...h.hookMs);
    }
    const hookedNames = new Set(
      (await fleet.db.host.findMany({ where: { id: { in: half.hooked } }, select: { name: true } })).map(
        (h) => h.name,
      ),
    );
    const own = await Promise.all(
      fleet.inv.hosts
        .filter((h) => hookedNames.has(h.name))
        .map(async (h) => {
          const r = await labExec(lab, h.name, [
            "node",
            "/usr/local/lib/keel/keel-agent.mjs",
            "hook",
            "hooked",
            "3.0",
          ]);
          return (JSON.parse(r.stdout) as { durationMs: number }).durationMs;
        }),
    );
    const added = median(hooked) - median(plain);
    console.log(
      `${new Date().toISOString().slice(0, 10)}: hook ${HOOK.argv.join(" ")}, load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          " ",
        )}; updates of ${N} lab hosts (two rounds, each app on its half, both at once), one wave, exec health check on both`,
    );
    console.log(
      `  host step median without hook ${sec(median(plain))}, with hook ${sec(median(hooked))}: +${sec(added)}`,
    );
    console.log(
      `  the hook's own run time (agent-reported, ${own.length} hosts at once, median) ${sec(median(own))}`,
    );
    console.log(
      `  the hook's run time inside the steps (agent-reported, ${inStep.length} steps, median) ${sec(median(inStep))}`,
    );
    console.log(
      `  added / own run time = ${(added / median(own)).toFixed(2)}; added / run time in the steps = ${(added / median(inStep)).toFixed(2)}`,
    );
  } finally {
    await fleet?.teardown().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
    await pg.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
