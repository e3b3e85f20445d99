import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listApps } from "@/server/services/inventory/list-apps";
import { READERS, ZAppSummary } from "./schemas";

/** Every app in the fleet with how many hosts run it. */
export const listAppsRoute = procedureFor(READERS)
  .output(z.array(ZAppSummary))
  .query(({ ctx }) => listApps({ db: ctx.db }));
