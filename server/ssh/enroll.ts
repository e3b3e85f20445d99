// Building blocks for enrolling a host (the inventory service stores the result): read the host
// key for an admin to compare, then connect only if the host still presents the accepted key.
import { connect, type ConnectOptions } from "./connect";
import { type SshConnection } from "./connection";
import { SshError } from "./errors";
import { isFingerprint } from "./fingerprint";
import { type SshTarget } from "./target";

export { fetchHostKeyFingerprint, type HostKeyInfo } from "./fetch-host-key";

/**
 * First contact with a host whose key an admin has just accepted (or re-pinned): the connection
 * succeeds only when the host presents exactly `acceptedFingerprint`. The caller then stores it
 * as the host's pinned fingerprint (and audits it).
 */
export async function connectAccepting(
  target: Omit<SshTarget, "pinnedFingerprint">,
  acceptedFingerprint: string,
  opts: Omit<ConnectOptions, "acceptFingerprint"> = {},
): Promise<SshConnection> {
  if (!isFingerprint(acceptedFingerprint)) {
    throw new SshError(
      "INVALID_ARGUMENT",
      `The accepted fingerprint for ${target.name} is not in OpenSSH SHA256:… format.`,
      {
        host: target.name,
        step: "verify-host-key",
      },
    );
  }
  return connect({ ...target, pinnedFingerprint: null }, { ...opts, acceptFingerprint: acceptedFingerprint });
}
