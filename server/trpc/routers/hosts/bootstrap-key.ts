import { z } from "zod";
import { readConsolePublicKey } from "@/server/console-identity";
import { bootstrapConsoleKey } from "@/server/services/inventory/hosts/bootstrap-console-key";
import { ZEnrollHostRequest } from "@/server/services/inventory/hosts/host-input";
import { procedureFor } from "@/server/trpc/init";

const ZCredential = z.union([
  z.strictObject({ password: z.string().min(1).max(1024) }),
  z.strictObject({ privateKey: z.string().min(1).max(32_768), passphrase: z.string().max(1024).optional() }),
]);

/**
 * Before step 2 of enrolling, for a host that does not trust the console's key yet: a one-time
 * password or private key of the admin's installs it (like ssh-copy-id). Never stored or logged.
 */
export const bootstrapKeyRoute = procedureFor(["admin"])
  .input(ZEnrollHostRequest.extend({ credential: ZCredential }).strict())
  .output(z.object({ name: z.string(), added: z.boolean(), method: z.enum(["password", "private key"]) }))
  .mutation(({ ctx, input }) =>
    bootstrapConsoleKey({ db: ctx.db, consolePublicKey: () => readConsolePublicKey() }, ctx.user, input),
  );
