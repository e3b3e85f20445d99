import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listRuntimes } from "@/server/services/inventory/list-runtimes";
import { READERS } from "./schemas";

const ZRuntimeSummary = z.object({
  runtime: z.string(),
  hosts: z.number(),
  versions: z.array(z.object({ version: z.string(), hosts: z.number() })),
  newestRelease: z.string().nullable(),
  drift: z.boolean(),
  usedBy: z.array(
    z.object({
      app: z.string(),
      version: z.string(),
      versions: z.string(),
      hosts: z.number(),
      unmet: z.number(),
    }),
  ),
});

/** Runtimes in the fleet: current versions, drift, and the installed apps that use each. */
export const listRuntimesRoute = procedureFor(READERS)
  .output(z.array(ZRuntimeSummary))
  .query(({ ctx }) => listRuntimes({ db: ctx.db }));
