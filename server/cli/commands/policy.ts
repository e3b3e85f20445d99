// `keel policy show|edit|test`: the approval policy (Cedar + maintenance windows). An edit is
// proposed and becomes active once approved, like any other change.
import { readFileSync } from "node:fs";
import { parseFlags } from "@/server/cli/args";
import type { Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";

const USAGE = [
  "keel policy show [--json]",
  'keel policy edit FILE.json [--comment TEXT]   (FILE: {"cedar": "…", "windows": […]}, as `show --json` prints)',
  "keel policy test FILE.json ROLLOUT_NUMBER [--at ISO_TIME]",
  "keel policy approve|reject VERSION",
];

function readDoc(file: string | undefined) {
  if (!file) throw new CliError(`usage:\n  ${USAGE.join("\n  ")}`);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliError(`cannot read a policy document from ${file}: ${(e as Error).message}`);
  }
}

export const policyCommand: Command = {
  name: "policy",
  summary: "show, edit (with approval) and dry-run the approval policy",
  usage: USAGE,
  ownJson: true,
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseFlags(rest, {
      json: { type: "boolean" },
      comment: { type: "string" },
      at: { type: "string" },
    });
    const client = io.client();
    switch (sub) {
      case "show": {
        const p = await client.policy.get.query();
        if (values.json) return io.out(JSON.stringify(p.active.document, null, 2));
        io.out(`policy version ${p.active.version} (digest ${p.active.digest.slice(0, 12)})`);
        io.out(p.active.document.cedar);
        for (const w of p.active.document.windows)
          io.out(
            `window ${w.name}: ${w.days.join(",")} ${w.start}–${w.end} ${w.timeZone} for ${[...(w.environments ?? []), ...(w.groups ?? [])].join(", ")}`,
          );
        return;
      }
      case "edit": {
        const r = await client.policy.propose.mutate({
          document: readDoc(positionals[0]),
          comment: typeof values.comment === "string" ? values.comment : "",
        });
        return io.out(
          `policy version ${r.version}: ${r.state}${r.state === "proposed" ? " — waiting for approval" : ""}`,
        );
      }
      case "test": {
        const [file, n] = positionals;
        const list = await client.rollouts.list.query({ page: 0, pageSize: 100 });
        const hit = list.rows.find((r) => r.number === Number(n));
        if (!hit) throw new CliError(`no rollout ${n ?? "(missing)"} among the latest 100`);
        const r = await client.policy.test.query({
          document: readDoc(file),
          rolloutId: hit.id,
          at: typeof values.at === "string" ? new Date(values.at) : undefined,
        });
        if (!r.ok) throw new CliError(`the policy is invalid:\n  ${r.errors.join("\n  ")}`);
        const say = (d: { effect: string; reasons: string[] }) => `${d.effect} — ${d.reasons.join("; ")}`;
        io.out(`current policy:  ${say(r.current)}`);
        return io.out(`proposed policy: ${say(r.proposed)}`);
      }
      case "approve":
      case "reject": {
        const p = await client.policy.get.query();
        const v = p.versions.find((x) => x.version === Number(positionals[0]));
        if (!v) throw new CliError(`no policy version ${positionals[0] ?? "(missing)"}`);
        const input = { versionId: v.id, digest: v.digest };
        const r =
          sub === "approve"
            ? await client.policy.approve.mutate(input)
            : await client.policy.reject.mutate(input);
        return io.out(`policy version ${v.version}: ${r.state}`);
      }
      default:
        throw new CliError(`usage:\n  ${USAGE.join("\n  ")}`);
    }
  },
};
