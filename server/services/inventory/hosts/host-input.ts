// Validation of what an admin types or imports for a host, shared by the enroll form, the API, the
// CLI and the importers.
import { z } from "zod";
import { ZEnvironment, ZLabels } from "@/server/services/inventory/types";

export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ADDRESS_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|[0-9A-Fa-f:.]{2,45})$/;

export const ZHostName = z.string().regex(HOST_NAME_RE, "host names are letters, digits, . _ - (up to 63)");
export const ZAddress = z.string().max(253).regex(ADDRESS_RE, "an IP address or DNS name");
export const ZFingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "an OpenSSH SHA256:… fingerprint");
export const ZSudoMode = z.enum(["none", "sudo", "forced-command"]);

export const ZHostConnectionFields = z.object({
  name: ZHostName,
  address: ZAddress,
  port: z.number().int().min(1).max(65535).default(22),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a login name")
    .default("root"),
  sudoMode: ZSudoMode.default("none"),
  environment: ZEnvironment.nullish(),
  labels: ZLabels.default({}),
});

export const ZEnrollHostRequest = ZHostConnectionFields.extend({
  /** The fingerprint the admin compared with the host and accepted. */
  acceptedFingerprint: ZFingerprint,
}).strict();
export type TEnrollHostRequest = z.input<typeof ZEnrollHostRequest>;

/** One row of a bulk import; a missing fingerprint must be fetched and accepted. */
export const ZImportEntry = ZHostConnectionFields.extend({ fingerprint: ZFingerprint.nullish() });
export type TImportEntry = z.input<typeof ZImportEntry>;

/** Parse "k=v k2=v2" or "k=v,k2=v2" or "k=v;k2=v2". */
export function parseLabelText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[\s,;]+/)) {
    if (!part) continue;
    const i = part.indexOf("=");
    if (i <= 0) throw new Error(`label "${part}" is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return ZLabels.parse(out);
}
