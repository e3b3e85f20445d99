import { router } from "@/server/trpc/init";
import { asOfRoute } from "./as-of";
import { bootstrapKeyRoute } from "./bootstrap-key";
import { enrollHostRoute } from "./enroll-host";
import { exportCsvRoute } from "./export-csv";
import { fetchHostKeyRoute } from "./fetch-host-key";
import { getHostRoute } from "./get-host";
import { importHostsRoute } from "./import-hosts";
import { listHostsRoute } from "./list-hosts";
import { refreshHostsRoute } from "./refresh-hosts";
import { removeHostRoute } from "./remove-host";
import { repinHostRoute } from "./repin-host";
import { retiredHostsRoute } from "./retired-hosts";
import { setEnvironmentRoute } from "./set-environment";
import { setLabelsRoute } from "./set-labels";
import { staleHostsRoute } from "./stale-hosts";

export const hostsRouter = router({
  list: listHostsRoute,
  get: getHostRoute,
  stale: staleHostsRoute,
  retired: retiredHostsRoute,
  asOf: asOfRoute,
  exportCsv: exportCsvRoute,
  fetchHostKey: fetchHostKeyRoute,
  enroll: enrollHostRoute,
  bootstrapKey: bootstrapKeyRoute,
  import: importHostsRoute,
  remove: removeHostRoute,
  repin: repinHostRoute,
  setLabels: setLabelsRoute,
  setEnvironment: setEnvironmentRoute,
  refresh: refreshHostsRoute,
});
