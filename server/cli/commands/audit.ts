import type { Command } from "../command";
import { CliError } from "../errors";

export const auditCommand: Command = {
  name: "audit",
  summary: "check the audit log's hash chain (auditor, admin)",
  usage: ["keel audit verify"],
  async run(args, io) {
    if (args[0] !== "verify") throw new CliError("usage: keel audit verify");
    const r = await io.client().audit.verify.query();
    if (r.ok) {
      io.out(`audit chain intact: ${r.rows} events verified (head ${r.headHash.slice(0, 16)}…)`);
      return;
    }
    throw new CliError(
      `audit chain BROKEN at event #${r.brokenAt.id} (${r.brokenAt.action}, ${r.brokenAt.at.toISOString()}): ${r.brokenAt.reason}; ${r.rows} events before it verified`,
      2,
    );
  },
};
