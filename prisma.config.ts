// Prisma CLI configuration. The schema is split per domain under prisma/schema/.
// Migrations are plain SQL in Prisma's folder format; Keel applies them itself
// (prisma/migrate.ts) because Prisma's schema engine cannot be downloaded here,
// and `prisma migrate deploy` works unchanged wherever that engine exists.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema",
  migrations: { path: "prisma/migrations" },
});
