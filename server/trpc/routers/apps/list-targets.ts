import { z } from "zod";
import { procedureFor } from "@/server/trpc/init";
import { listAppTargets } from "@/server/services/inventory/hosts/list-app-targets";
import { ZAppName } from "@/server/services/inventory/types";
import { READERS, ZTarget } from "./schemas";

/** Target versions (optionally of one app). */
export const listTargetsRoute = procedureFor(READERS)
  .input(z.strictObject({ app: ZAppName.optional() }).default({}))
  .output(z.array(ZTarget))
  .query(({ ctx, input }) => listAppTargets({ db: ctx.db }, input));
