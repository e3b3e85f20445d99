import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listGroups } from "@/server/services/inventory/hosts/list-groups";

const ZGroup = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  kind: z.string(),
  filter: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.date(),
  hosts: z.number(),
});

/** Static and filter groups with their host counts. */
export const listGroupsRoute = procedureFor(["admin", "operator", "approver", "auditor"])
  .output(z.array(ZGroup))
  .query(({ ctx }) => listGroups({ db: ctx.db }));
