// `keel rollout list` and `keel audit list`: the listings the pages have, as text tables (or the
// console's answers with --json, like every command).
import type { CliIo } from "./command";
import { parseFlags } from "./args";
import { CliError } from "./errors";
import { table } from "./format";

export const ROLLOUT_LIST_USAGE = "keel rollout list [--state STATE] [--app APP] [--page N]";
export const AUDIT_LIST_USAGE =
  "keel audit list [--action PREFIX] [--actor EMAIL] [--target TEXT] [--limit N]";

const page = (v: string | undefined) => {
  const n = Number(v ?? 0);
  if (!Number.isInteger(n) || n < 0) throw new CliError("--page must be a whole number from 0");
  return n;
};

export async function listRollouts(args: string[], io: CliIo): Promise<void> {
  const { values } = parseFlags(args, {
    state: { type: "string" },
    app: { type: "string" },
    page: { type: "string" },
  });
  const r = await io
    .client()
    .rollouts.list.query({ state: values.state, app: values.app, page: page(values.page), pageSize: 50 });
  if (!r.rows.length) return io.out("no rollouts");
  const rows = r.rows.map((x) => [
    String(x.number),
    x.state.replace(/_/g, " "),
    `${x.action} ${x.app}${x.version ? " " + x.version : ""}`,
    Object.entries(x.hosts)
      .map(([s, n]) => `${s} ${n}`)
      .join(", "),
    x.requester,
    new Date(x.createdAt).toISOString(),
  ]);
  for (const l of table([["NUMBER", "STATE", "WHAT", "HOSTS", "BY", "CREATED"], ...rows])) io.out(l);
  if (r.total > rows.length) io.out(`(${rows.length} of ${r.total}; --page N for more)`);
}

export async function listAudit(args: string[], io: CliIo): Promise<void> {
  const { values } = parseFlags(args, {
    action: { type: "string" },
    actor: { type: "string" },
    target: { type: "string" },
    limit: { type: "string" },
  });
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliError("--limit must be 1 to 200");
  const r = await io
    .client()
    .audit.list.query({ action: values.action, actor: values.actor, target: values.target, limit });
  if (!r.items.length) return io.out("no audit events match");
  const rows = r.items.map((e) => [
    e.id,
    new Date(e.at).toISOString(),
    e.actor ?? "console",
    e.action,
    e.target ?? "",
  ]);
  for (const l of table([["#", "AT", "ACTOR", "ACTION", "TARGET"], ...rows])) io.out(l);
}
