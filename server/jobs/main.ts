// `npm run worker`: a rollout worker on its own, against DATABASE_URL, with the console's data
// directory (artifacts, SSH key) from KEEL_DATA_DIR. SIGTERM/SIGINT stop it gracefully.
// Like `npm start`, it refuses a DATABASE_URL whose role could rewrite the audit log (docs/audit.md).
import pg from "pg";
import { findAppRoleProblems } from "@/prisma/app-role";
import { startWorkers } from "./start-workers";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("keel worker: DATABASE_URL is not set; point it at the console's PostgreSQL");
  process.exit(2);
}

async function checkRole(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const problems = await findAppRoleProblems(c).finally(() => c.end());
  if (problems.length) {
    console.error(
      `keel worker: DATABASE_URL could rewrite or delete audit rows (${problems.join("; ")}): give the worker the console's app role URL, as npm start uses (docs/audit.md)`,
    );
    process.exit(2);
  }
}

void checkRole(url)
  .then(() => startWorkers({ databaseUrl: url, dataDir: process.env.KEEL_DATA_DIR ?? ".keel" }))
  .then((workers) => {
    console.log(`keel worker ${workers.rollouts.id} started`);
    for (const sig of ["SIGINT", "SIGTERM"] as const)
      process.once(sig, () => {
        void workers.stop().then(() => process.exit(0));
      });
  });
