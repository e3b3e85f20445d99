// The console's own release-signing key, made on the first start so that a fresh console can build
// its first release without anyone creating a key by hand. Made only once in the console's life:
// when the audit log has never recorded a signing key (an admin who retires or removes every key
// later gets no new one behind the policy's back; they create one in Settings, governed). The
// private half is sealed like every other console key; hosts trust it like any active key (it is
// installed on enrollment and with the next rollout). Audited as signing_key.create, actor "console".
import { createDb } from "@/server/db";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { createSecretBox } from "@/server/services/keys/secret-box";

export const CONSOLE_KEY_NAME = "console";

export async function ensureConsoleSigningKey(opts: {
  databaseUrl: string;
  secret: string;
  dataDir: string;
  log: (line: string) => void;
}): Promise<{ keyId: string } | null> {
  const db = createDb(opts.databaseUrl);
  try {
    const everHadKey =
      (await db.signingKey.count()) > 0 ||
      (await db.auditEvent.count({ where: { action: { startsWith: "signing_key." } } })) > 0;
    if (everHadKey) return null;
    const box = createSecretBox({ secret: opts.secret, dataDir: opts.dataDir });
    const k = await createSigningKey({ db, box, actorId: null }, { name: CONSOLE_KEY_NAME });
    opts.log(
      `made the console's release-signing key ${k.keyId} ("${k.name}"); hosts trust it from their enrollment on`,
    );
    return { keyId: k.keyId };
  } finally {
    await db.$disconnect();
  }
}
