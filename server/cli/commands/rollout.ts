// `keel rollout …`: create, plan, approve/reject, start/pause/resume/cancel, status, and fleet
// rollback — the same API and the same policy as the Rollouts and Approvals pages.
import { listRollouts, ROLLOUT_LIST_USAGE } from "@/server/cli/listings";
import { parseFlags } from "@/server/cli/args";
import type { CliIo, Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";
import type { RuntimeUse } from "@/server/services/rollouts/plan-runtimes-types";
import { runtimeLines, type PlanRuntimeLine } from "./rollout-runtimes";

const USAGE = [
  "keel rollout plan APP VERSION TARGETS… [--waves 1,10%,100%] [--threshold N] [--parallelism N] [--include-unreachable]",
  "keel rollout create APP VERSION TARGETS… [same flags]",
  "keel rollout rollback APP TARGETS… [same flags]     (fleet rollback: previous becomes current)",
  "keel rollout status NUMBER",
  ROLLOUT_LIST_USAGE,
  "keel rollout approve|reject NUMBER [--comment TEXT]",
  "keel rollout start|pause|resume|cancel NUMBER",
  "keel rollout schedule NUMBER --at ISO-TIME | --next-window   (a worker starts it then, as you)",
  "keel rollout unschedule NUMBER",
  "  TARGETS: env=prod  label=role=web  group=GROUP_ID  host=HOST_ID  (repeatable; all must match)",
];

const FLAGS = {
  waves: { type: "string" },
  threshold: { type: "string" },
  parallelism: { type: "string" },
  comment: { type: "string" },
  at: { type: "string" },
  "next-window": { type: "boolean" },
  "include-unreachable": { type: "boolean" },
} as const;

function targetsOf(words: string[]) {
  const t: { environments?: string[]; labels?: Record<string, string>; groupId?: string; ids?: string[] } =
    {};
  for (const w of words) {
    const [k, ...rest] = w.split("=");
    const v = rest.join("=");
    if (!v) throw new CliError(`target "${w}" is not key=value (env=…, label=k=v, group=…, host=…)`);
    if (k === "env") (t.environments ??= []).push(v);
    else if (k === "label") {
      const [lk, ...lv] = v.split("=");
      if (!lk || lv.length === 0) throw new CliError(`label target "${w}" must be label=KEY=VALUE`);
      (t.labels ??= {})[lk] = lv.join("=");
    } else if (k === "group") t.groupId = v;
    else if (k === "host") (t.ids ??= []).push(v);
    else throw new CliError(`unknown target "${k}" (use env, label, group or host)`);
  }
  if (Object.keys(t).length === 0) throw new CliError("name the targets, e.g. env=staging or label=role=web");
  return t;
}

function specOf(
  action: "update" | "rollback",
  app: string | undefined,
  version: string | undefined,
  targets: string[],
  v: Record<string, string | boolean | undefined>,
) {
  if (!app) throw new CliError(`usage:\n  ${USAGE.join("\n  ")}`);
  const num = (x: unknown, name: string) => {
    if (x === undefined) return undefined;
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`--${name} must be a whole number`);
    return n;
  };
  return {
    action,
    app,
    ...(version ? { version } : {}),
    targets: targetsOf(targets),
    waves: typeof v.waves === "string" ? v.waves.split(",").map((s) => s.trim()) : ["100%"],
    failureThreshold: num(v.threshold, "threshold") ?? 0,
    parallelism: num(v.parallelism, "parallelism") ?? 10,
    ...(v["include-unreachable"] ? { includeUnreachable: true } : {}),
  };
}

function printPlan(
  io: CliIo,
  plan: {
    totals: Record<string, number>;
    waves: number[];
    hosts: { name: string; excluded?: string; note?: string; runtimes?: PlanRuntimeLine[] }[];
    kind?: string;
    affects?: RuntimeUse[];
    rootCommands?: { commands: string[]; hosts: number };
  },
  decision: { effect: string; reasons: string[]; approvals?: number; approverRole?: string },
) {
  const t = plan.totals;
  io.out(
    `hosts ${t.hosts}: install ${t.install}, update ${t.update}, rollback ${t.rollback}, nothing ${t.nothing}; ${t.bytes} bytes to send; waves ${plan.waves.join(" → ")}`,
  );
  for (const h of plan.hosts.filter((x) => x.excluded))
    io.out(`left out: ${h.name} — ${h.note ?? h.excluded}`);
  for (const line of runtimeLines(plan)) io.out(line);
  if (plan.rootCommands?.hosts)
    io.out(
      `runs as root: ${plan.rootCommands.commands.join(" and ")} on ${plan.rootCommands.hosts} host(s) (the release's signed manifest asks for it)`,
    );
  const what =
    decision.effect === "needs_approval"
      ? `needs ${decision.approvals} approval(s) from ${decision.approverRole}`
      : decision.effect;
  io.out(`policy: ${what} — ${decision.reasons.join("; ")}`);
}

async function byNumber(io: CliIo, n: string | undefined) {
  if (!n || !/^\d+$/.test(n))
    throw new CliError("give the rollout's number (see `keel rollout status N` or the Rollouts page)");
  const list = await io.client().rollouts.list.query({ page: 0, pageSize: 100 });
  const hit = list.rows.find((r) => r.number === Number(n));
  if (!hit) throw new CliError(`no rollout ${n} among the latest 100`);
  return io.client().rollouts.get.query({ rolloutId: hit.id });
}

export const rolloutCommand: Command = {
  name: "rollout",
  summary: "plan, approve, run and roll back rollouts",
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "list") return listRollouts(rest, io);
    const { values, positionals } = parseFlags(rest, FLAGS);
    switch (sub) {
      case "plan":
      case "create": {
        const [app, version, ...targets] = positionals;
        if (!version) throw new CliError(`usage: ${USAGE[sub === "plan" ? 0 : 1]}`);
        const spec = specOf("update", app, version, targets, values);
        if (sub === "plan") {
          const p = await io.client().rollouts.preview.mutate(spec);
          return printPlan(io, p.plan, p.decision);
        }
        const r = await io.client().rollouts.create.mutate(spec);
        io.out(`rollout ${r.number} created: ${r.state.replace("_", " ")}`);
        return io.out(`plan digest ${r.digest}`);
      }
      case "rollback": {
        const [app, ...targets] = positionals;
        const r = await io
          .client()
          .rollouts.create.mutate(specOf("rollback", app, undefined, targets, values));
        return io.out(`rollback rollout ${r.number} created: ${r.state.replace("_", " ")}`);
      }
      case "status": {
        const r = await byNumber(io, positionals[0]);
        io.out(
          `rollout ${r.number}: ${r.action} ${r.app}${r.version ? " " + r.version : ""} — ${r.state}${r.pauseReason ? ` (${r.pauseReason})` : ""}`,
        );
        if (r.schedule)
          io.out(`starts at ${new Date(r.schedule.at).toISOString()} (scheduled by ${r.schedule.by})`);
        if (r.scheduleError) io.out(`scheduled start refused: ${r.scheduleError}`);
        io.out(
          `requested by ${r.requester}; approvals ${r.validApprovals}/${r.requiredApprovals}; wave ${r.currentWave + 1}/${r.waveSizes.length}`,
        );
        for (const h of r.hosts)
          io.out(
            `  ${h.hostName.padEnd(24)} wave ${h.wave + 1}  ${h.state.padEnd(10)} ${h.step ?? ""}${h.error ? `  ${h.error}` : ""}`,
          );
        return;
      }
      case "approve":
      case "reject": {
        const r = await byNumber(io, positionals[0]);
        const input = {
          rolloutId: r.id,
          digest: r.planDigest,
          comment: typeof values.comment === "string" ? values.comment : undefined,
        };
        const res =
          sub === "approve"
            ? await io.client().rollouts.approve.mutate(input)
            : await io.client().rollouts.reject.mutate(input);
        return io.out(`rollout ${r.number}: ${res.state.replace("_", " ")}`);
      }
      case "start":
      case "pause":
      case "resume":
      case "cancel": {
        const r = await byNumber(io, positionals[0]);
        const res = await io.client().rollouts[sub].mutate({ rolloutId: r.id });
        return io.out(`rollout ${r.number}: ${res.state}`);
      }
      case "schedule": {
        const at = typeof values.at === "string" ? new Date(values.at) : undefined;
        if (!at === !values["next-window"])
          throw new CliError(`usage: ${USAGE.find((u) => u.startsWith("keel rollout schedule"))}`);
        if (at && Number.isNaN(at.getTime()))
          throw new CliError(`--at "${values.at}" is not a time; give ISO 8601, e.g. 2026-12-05T22:00:00Z`);
        const r = await byNumber(io, positionals[0]);
        const res = await io
          .client()
          .rollouts.schedule.mutate(at ? { rolloutId: r.id, at } : { rolloutId: r.id, nextWindow: true });
        return io.out(`rollout ${r.number}: starts at ${new Date(res.scheduledStartAt).toISOString()}`);
      }
      case "unschedule": {
        const r = await byNumber(io, positionals[0]);
        await io.client().rollouts.unschedule.mutate({ rolloutId: r.id });
        return io.out(`rollout ${r.number}: schedule cancelled`);
      }
      default:
        throw new CliError(`usage:\n  ${USAGE.join("\n  ")}`);
    }
  },
};
