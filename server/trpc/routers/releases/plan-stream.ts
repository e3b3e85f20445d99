import { procedureFor } from "@/server/trpc/init";
import { planStream } from "@/server/services/releases/plan-stream";
import { ZPlanStreamRequest, ZPlanStreamResponse } from "./schemas";

/** What would be sent to a host holding `hostVersions` to install `version` (may produce a delta). */
export const planStreamRoute = procedureFor(["admin", "operator"])
  .input(ZPlanStreamRequest)
  .output(ZPlanStreamResponse)
  .mutation(({ ctx, input }) =>
    planStream({ db: ctx.db, ...input, producer: ctx.services.releases(ctx.db, ctx.user.id) }),
  );
