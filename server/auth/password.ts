// Password hashing for better-auth and for accounts Keel creates itself: argon2id with OWASP's
// recommended parameters (19 MiB, 2 passes, 1 lane), PHC strings at rest.
import { hash, verify } from "@node-rs/argon2";

const ARGON2ID = 2; // @node-rs/argon2's Algorithm.Argon2id (a const enum, so not importable here)

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
}

export async function verifyPassword({
  hash: phc,
  password,
}: {
  hash: string;
  password: string;
}): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false; // not an argon2 PHC string
  }
}

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
