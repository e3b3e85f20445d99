import type { Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";
import { AUDIT_LIST_USAGE, listAudit } from "@/server/cli/listings";

const HEADLINE = {
  chain: "",
  rewrite: "audit log REWRITTEN: ",
  truncation: "",
  checkpoints: "audit checkpoints INVALID: ",
} as const;

export const auditCommand: Command = {
  name: "audit",
  summary: "list audit events, or check the hash chain against its signed checkpoints (auditor, admin)",
  usage: ["keel audit verify", AUDIT_LIST_USAGE],
  async run(args, io) {
    if (args[0] === "list") return listAudit(args.slice(1), io);
    if (args[0] !== "verify") throw new CliError(`usage: keel audit verify | ${AUDIT_LIST_USAGE}`);
    const r = await io.client().audit.verify.query();
    if (r.ok) {
      const n = r.checkpoints.newest;
      const against = n
        ? `; matches ${r.checkpoints.count} signed checkpoint(s), the newest #${n.seq} of ${n.at.toISOString()} (${n.rows} events)`
        : "; no checkpoint yet";
      io.out(`audit chain intact: ${r.rows} events verified (head ${r.headHash.slice(0, 16)}…)${against}`);
      return;
    }
    throw new CliError(HEADLINE[r.kind] + r.message, 2);
  },
};
