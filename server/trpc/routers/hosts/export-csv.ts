import { procedureFor } from "@/server/trpc/init";
import { exportTable } from "@/server/services/inventory/export-table";
import { READERS, ZExportRequest, ZExportResponse } from "./schemas";

/** Any inventory table as CSV, with the same filters as on screen. */
export const exportCsvRoute = procedureFor(READERS)
  .input(ZExportRequest)
  .output(ZExportResponse)
  .query(({ ctx, input }) => exportTable({ db: ctx.db }, input));
