import { createHash } from "node:crypto";
import { z } from "zod";
import { readConsolePublicKey } from "@/server/console-identity";
import { AppError } from "@/server/errors";
import { signedInProcedure } from "@/server/trpc/init";

export const ZSshKeyResponse = z.object({
  /** The OpenSSH public key line hosts put in root's (or the sudo user's) authorized_keys. */
  publicKey: z.string(),
  /** "SHA256:…" as `ssh-keygen -lf` prints it. */
  fingerprint: z.string(),
});

/** The console's SSH public key: what every managed host must authorize before it can be enrolled. */
export const sshKeyRoute = signedInProcedure.output(ZSshKeyResponse).query(() => {
  const publicKey = readConsolePublicKey();
  if (!publicKey)
    throw new AppError("NOT_FOUND", {
      message: "the console has no SSH key yet: it makes one when it starts (npm start)",
    });
  const blob = Buffer.from(publicKey.split(/\s+/)[1] ?? "", "base64");
  const fingerprint = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
  return { publicKey, fingerprint };
});
