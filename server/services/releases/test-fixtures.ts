// Test helpers: signed manifests for arbitrary stream bytes (push tests do not need real streams).
import { createHash, randomUUID } from "node:crypto";
import {
  MIN_CHUNK_SIZE,
  MANIFEST_VERSION,
  signManifest,
  type ReleaseManifest,
  type SigningKey,
} from "@/agent/protocol";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export function streamDescription(bytes: Buffer, chunkSize = MIN_CHUNK_SIZE) {
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(sha(bytes.subarray(i, i + chunkSize)));
  return {
    format: "btrfs-send" as const,
    compression: "none" as const,
    bytes: bytes.length,
    sha256: sha(bytes),
    chunkSize,
    chunks,
    uuid: randomUUID(),
  };
}

export function signedManifest(
  key: SigningKey,
  opts: { app: string; version: string; stream: Buffer; created?: string; kind?: ReleaseManifest["kind"] },
): ReleaseManifest {
  return signManifest(
    {
      manifestVersion: MANIFEST_VERSION,
      app: opts.app,
      version: opts.version,
      kind: opts.kind ?? "app",
      created: opts.created ?? "2026-11-26T12:00:00Z",
      tree: {
        files: 3,
        bytes: 1234,
        sha256: sha(Buffer.from(`${opts.app}@${opts.version}`)),
        metaSha256: sha(Buffer.from(`meta ${opts.app}@${opts.version}`)),
      },
      stream: streamDescription(opts.stream),
    },
    key,
  );
}
