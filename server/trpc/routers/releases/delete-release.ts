import { procedureFor } from "@/server/trpc/init";
import { deleteRelease } from "@/server/services/releases/delete-release";
import { ZDeleteReleaseResponse, ZReleaseRef } from "./schemas";

/** Deletes a release no host runs (refused otherwise), with its deltas and unused streams. */
export const deleteReleaseRoute = procedureFor(["admin", "operator"])
  .input(ZReleaseRef)
  .output(ZDeleteReleaseResponse)
  .mutation(({ ctx, input }) => deleteRelease(ctx.services.releases(ctx.db, ctx.user.id), input));
