import { formatManifest, validateManifest, ProtocolInputError, type ReleaseManifest } from "@/agent/protocol";
import { AppError } from "@/server/errors";

/** Largest manifest accepted (200,000 chunk digests fit). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Parses and validates a manifest (text or value); every problem is a BAD_REQUEST naming the field. */
export function parseManifest(input: string | unknown): ReleaseManifest {
  let value = input;
  if (typeof input === "string") {
    if (Buffer.byteLength(input) > MAX_MANIFEST_BYTES)
      throw new AppError("BAD_REQUEST", { message: "the manifest is larger than 16 MiB" });
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new AppError("BAD_REQUEST", { message: `the manifest is not JSON: ${(e as Error).message}` });
    }
  }
  try {
    return validateManifest(value);
  } catch (e) {
    if (e instanceof ProtocolInputError)
      throw new AppError("BAD_REQUEST", {
        message: `invalid manifest: ${e.message}`,
        details: { path: e.path },
      });
    throw e;
  }
}

/** The columns of a release row that come from its signed manifest (the same for a build and a push). */
export function manifestColumns(m: ReleaseManifest) {
  return {
    app: m.app,
    version: m.version,
    kind: m.kind,
    manifest: formatManifest(m),
    signerKeyId: m.signer,
    streamDigest: m.stream.sha256,
    streamBytes: BigInt(m.stream.bytes),
    treeFiles: m.tree.files,
    treeBytes: BigInt(m.tree.bytes),
    createdAt: new Date(m.created),
  };
}
