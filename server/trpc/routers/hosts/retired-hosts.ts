import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listRetiredHosts } from "@/server/services/inventory/hosts/list-retired-hosts";
import { READERS } from "./schemas";

/** Hosts removed from the inventory (their pages and history stay readable), newest first. */
export const retiredHostsRoute = procedureFor(READERS)
  .input(
    z
      .strictObject({
        q: z.string().max(200).optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      })
      .default({}),
  )
  .output(
    z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        address: z.string(),
        environment: z.string().nullable(),
        createdAt: z.date(),
        retiredAt: z.date(),
        retiredBy: z.string().nullable(),
      }),
    ),
  )
  .query(({ ctx, input }) => listRetiredHosts({ db: ctx.db }, input));
