import { procedureFor } from "@/server/trpc/init";
import { governed } from "@/server/services/policy/governed/govern";
import {
  parseHostsCsv,
  parseLabInventory,
  parseSshConfig,
} from "@/server/services/inventory/hosts/parse-import";
import { ZImportRequest, ZImportResponse } from "./schemas";

/** Bulk enrollment from the lab inventory, a CSV, or ssh_config + known_hosts. Admin-only. */
export const importHostsRoute = procedureFor(["admin"])
  .input(ZImportRequest)
  .output(ZImportResponse)
  .mutation(async ({ ctx, input }) => {
    const parsed =
      input.format === "lab"
        ? parseLabInventory(input.text)
        : input.format === "csv"
          ? parseHostsCsv(input.text)
          : parseSshConfig(input.text, input.knownHosts ?? "");
    const entries = parsed.entries.map((e) => ({ ...e, name: String(e.name) }));
    if (input.dryRun) return { problems: parsed.problems, entries, outcomes: [], enrolled: 0 };
    const r = await governed(ctx.services.govern(ctx.db), ctx.user, "hosts.import", {
      entries: parsed.entries,
      acceptPresentedKeys: input.acceptPresentedKeys,
      environment: input.environment,
      labels: input.labels,
      source: input.format,
    });
    return { problems: parsed.problems, entries, ...r };
  });
