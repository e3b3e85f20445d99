// First step of enrolling: read the key a host presents (no authentication, nothing sent), so an
// admin can compare its fingerprint with the host before accepting it.
import { AppError } from "@/server/errors";
import type { InventoryDeps } from "@/server/services/inventory/types";
import { ZAddress } from "./host-input";

export async function fetchHostKey(
  deps: InventoryDeps,
  input: { address: string; port: number; name?: string },
) {
  if (!deps.ssh)
    throw new AppError("PRECONDITION_FAILED", { message: "fetching a host key needs the SSH layer" });
  const address = ZAddress.parse(input.address);
  try {
    const r = await deps.ssh.fetchHostKey({ name: input.name || address, address, port: input.port });
    return { address, port: input.port, fingerprint: r.fingerprint, algorithm: r.algorithm ?? null };
  } catch (e) {
    throw new AppError("HOST_UNREACHABLE", { message: (e as Error).message, cause: e });
  }
}
