// Lab part of the inventory benchmark: N lab hosts imported from the lab inventory, then refreshed
// end to end (pinned connect, ensure agent, `facts`, record) — first with the agent upload, then a
// steady-state refresh — timing the wall clock of each. The lab is torn down afterwards.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { labDown, labUp } from "@/infra/lab/api";
import { createDb } from "@/server/db";
import { importHosts } from "@/server/services/inventory/hosts/import-hosts";
import { parseLabInventory } from "@/server/services/inventory/hosts/parse-import";
import { inventoryPath } from "@/infra/lab/api";
import { refreshHosts } from "@/server/services/inventory/refresh-hosts";
import { createInventorySsh } from "@/server/services/inventory/ssh-adapter";

export async function runLabRefreshBench(n: number, dbUrl: string, concurrency = 32): Promise<string> {
  const lab = "ib" + randomBytes(3).toString("hex");
  const t0 = Date.now();
  // Named in the output so a run stopped from outside can be cleaned up: npm run lab -- down <lab>.
  console.log(`lab ${lab}: ${n} hosts`);
  try {
    const inv = await labUp({ lab, count: n });
    const upS = (Date.now() - t0) / 1000;
    console.log(`lab ${lab} up in ${upS.toFixed(0)} s`);
    const db = createDb(dbUrl);
    const ssh = createInventorySsh({ privateKey: readFileSync(inv.consoleKey.privateKeyPath!, "utf8") });
    try {
      const imported = await importHosts(
        { db },
        {
          actorId: null,
          entries: parseLabInventory(readFileSync(inventoryPath(lab), "utf8")).entries,
          source: "lab",
        },
      );
      const ids = imported.outcomes.flatMap((o) => (o.id ? [o.id] : []));
      console.log(`imported ${ids.length} hosts; refreshing`);
      const first = await refreshHosts({ db, ssh }, { hostIds: ids }, { concurrency });
      console.log(
        `first refresh ${(first.ms / 1000).toFixed(1)} s (${first.ok} ok, ${first.unreachable} unreachable)`,
      );
      const second = await refreshHosts({ db, ssh }, { hostIds: ids }, { concurrency });
      const p95 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.ceil(ms.length * 0.95) - 1] ?? 0;
      // Hosts that did not answer: how many and why (first distinct messages).
      const failed = (r: typeof first) => {
        const bad = r.results.filter((x) => x.status !== "ok");
        if (!bad.length) return "";
        const why = [...new Set(bad.map((x) => (x.message ?? x.status).slice(0, 120)))]
          .slice(0, 2)
          .join("; ");
        return `, ${bad.length} not ok: ${why}`;
      };
      return (
        `${n} lab hosts (concurrency ${concurrency}; lab up took ${upS.toFixed(0)} s): first refresh incl. agent upload ` +
        `${(first.ms / 1000).toFixed(1)} s wall (${first.ok} ok${failed(first)}, per-host p95 ${(p95(first.results.map((r) => r.ms)) / 1000).toFixed(1)} s); ` +
        `steady-state refresh ${(second.ms / 1000).toFixed(1)} s wall (${second.ok} ok, ${second.changed} changed${failed(second)}, per-host p95 ${(p95(second.results.map((r) => r.ms)) / 1000).toFixed(1)} s).`
      );
    } finally {
      await ssh.close();
      await db.$disconnect();
    }
  } finally {
    await labDown(lab).catch(() => undefined);
  }
}
