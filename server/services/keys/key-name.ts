import { AppError } from "@/server/errors";

/** A key's label: printable, no control characters, up to 64 characters. */
export const KEY_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._@()-]{0,63}$/u;

export function assertKeyName(name: string): string {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new AppError("BAD_REQUEST", {
      message: `key name ${JSON.stringify(name)} is not allowed: use 1–64 letters, digits, spaces and . _ @ ( ) -`,
    });
  }
  return name;
}
