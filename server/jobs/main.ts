// `npm run worker`: a rollout worker on its own, against DATABASE_URL, with the console's data
// directory (artifacts, SSH key) from KEEL_DATA_DIR. SIGTERM/SIGINT stop it gracefully.
import { startWorkers } from "./start-workers";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("keel worker: DATABASE_URL is not set; point it at the console's PostgreSQL");
  process.exit(2);
}
void startWorkers({ databaseUrl: url, dataDir: process.env.KEEL_DATA_DIR ?? ".keel" }).then((workers) => {
  console.log(`keel worker ${workers.rollouts.id} started`);
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      void workers.stop().then(() => process.exit(0));
    });
});
