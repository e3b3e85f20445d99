// Creates the first admin — and the founders named in KEEL_FOUNDERS — when the database has no
// users yet. Founders are the only accounts whose roles rest on no other account in Keel
// (docs/decisions/0015-two-person-rule.md): they are named where Keel is installed, never through
// the API. Passwords come from the environment, or are generated and returned so that start-up
// prints them once.
import { createDb } from "@/server/db";
import { AppError } from "@/server/errors";
import { createUser } from "@/server/services/users/create-user";

const ROLES = ["admin", "operator", "approver", "auditor"] as const;
type FounderRole = (typeof ROLES)[number];

/** "a@x:approver,b@y:operator+approver" → founders; refuses unknown roles with the entry named. */
export function parseFounders(text: string | undefined): { email: string; roles: FounderRole[] }[] {
  if (!text?.trim()) return [];
  return text.split(",").map((entry) => {
    const [email, roles] = entry.trim().split(":") as [string, string];
    const list = roles.split("+");
    const bad = list.find((r) => !(ROLES as readonly string[]).includes(r));
    if (bad)
      throw new Error(
        `KEEL_FOUNDERS: "${entry.trim()}" names the role "${bad}"; roles are ${ROLES.join(", ")}`,
      );
    return { email, roles: list as FounderRole[] };
  });
}

export async function ensureFirstAdmin(opts: {
  databaseUrl: string;
  email: string;
  password?: string;
  founders?: string;
  foundersPassword?: string;
}): Promise<
  | { created: false }
  | {
      created: true;
      email: string;
      generatedPassword: string | null;
      founders: { email: string; generatedPassword: string | null }[];
    }
> {
  const founders = parseFounders(opts.founders);
  const db = createDb(opts.databaseUrl);
  try {
    if ((await db.user.count()) > 0) return { created: false };
    const { user, password } = await createUser({
      db,
      actorId: null,
      input: { email: opts.email, name: "Administrator", roles: ["admin"], password: opts.password },
    }).catch((e: unknown) => {
      // A KEEL_ADMIN_PASSWORD the strength check refuses: say which setting to change.
      if (e instanceof AppError && opts.password !== undefined)
        throw new Error(`KEEL_ADMIN_PASSWORD: ${e.message}`);
      throw e;
    });
    const made = [];
    for (const f of founders) {
      const r = await createUser({
        db,
        actorId: null,
        input: {
          email: f.email,
          name: f.email.split("@")[0]!,
          roles: f.roles,
          password: opts.foundersPassword,
        },
      });
      made.push({ email: r.user.email, generatedPassword: r.password });
    }
    return { created: true, email: user.email, generatedPassword: password, founders: made };
  } finally {
    await db.$disconnect();
  }
}
