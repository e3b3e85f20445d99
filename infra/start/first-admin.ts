// Creates the first admin when the database has no users yet. Its password comes from
// KEEL_ADMIN_PASSWORD, or is generated and returned so that start-up prints it once.
import { createDb } from "../../server/db";
import { AppError } from "../../server/errors";
import { createUser } from "../../server/services/users/create-user";

export async function ensureFirstAdmin(opts: {
  databaseUrl: string;
  email: string;
  password?: string;
}): Promise<{ created: false } | { created: true; email: string; generatedPassword: string | null }> {
  const db = createDb(opts.databaseUrl);
  try {
    if ((await db.user.count()) > 0) return { created: false };
    const { user, password } = await createUser({
      db,
      actorId: null,
      input: { email: opts.email, name: "Administrator", roles: ["admin"], password: opts.password },
    }).catch((e: unknown) => {
      // A KEEL_ADMIN_PASSWORD the strength check refuses: say which setting to change.
      if (e instanceof AppError && opts.password !== undefined) throw new Error(`KEEL_ADMIN_PASSWORD: ${e.message}`);
      throw e;
    });
    return { created: true, email: user.email, generatedPassword: password };
  } finally {
    await db.$disconnect();
  }
}
