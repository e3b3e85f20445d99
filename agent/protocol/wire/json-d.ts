// A JSON frame deflated against a preset dictionary (kind 0x64 "d", wire feature "json-d1", decision
// 0044): the same UTF-8 JSON as a "J" frame, raw deflate whose window starts with JSON_D1_DICTIONARY —
// the keys and fixed values of the requests, events and responses this protocol sends. A receive
// request (the signed manifest) or a receive response costs then about its values only: 1,000 bytes
// of request JSON are ≈ 400 on the wire (brotli alone: ≈ 615), a 340-byte response ≈ 85, a `ready`
// event ≈ 10. The console sends it only to an agent whose hello lists "json-d1"; the agent answers
// in the form the request came in. It inflates into at most MAX_JSON_FRAME bytes and is parsed
// exactly as a "J" frame, so the manifest's signature is checked over the same object.
//
// The dictionary is part of the format: it never changes under the name "json-d1" (its SHA-256 is
// pinned in wire.test.ts). A better one is a new feature name ("json-d2"), listed beside this one.
import { deflateRawSync, inflateRawSync, constants as zc } from "node:zlib";

const EMPTY_SPECIAL = '"special":{"setuid":[],"capabilities":[],"devices":[],"xattrs":[]}';
/**
 * Most useful last (deflate's distances are shorter there): errors and facts first, then the
 * responses and events of a receive, then a receive request with its manifest.
 */
export const JSON_D1_DICTIONARY = Buffer.from(
  [
    '"error":{"code":"BAD_REQUEST","step":"request","message":"","retryable":false}}',
    '{"agent":{"version":"0.1.0","protocolVersion":1,"sha256":""},"host":{"hostname":"","machineId":"",',
    '"os":{"id":"debian","versionId":"12","prettyName":"Debian GNU/Linux 12 (bookworm)"},"kernel":"6.1.0-',
    '-amd64","arch":"x64","cpu":{"model":"","cores":2},"memoryBytes":,"uptimeSeconds":},',
    '"store":{"path":"/var/lib/keel","backend":"btrfs","fsType":"btrfs","sizeBytes":,"freeBytes":},',
    '"apps":[{"app":"","current":"","previous":null,"versions":[{"version":"","kind":"app","files":,',
    '"bytes":,"treeSha256":"","receivedUuid":"","created":"","signer":"","readOnly":true,',
    '"isCurrent":false,"isPrevious":false,"requires":[]}],"exports":[]}],"runtimes":[],"trustedKeys":[]}',
    '"healthCheck":{"type":"exec","argv":[],"timeoutMs":,"runAs":"unprivileged"}',
    '"healthCheck":{"type":"http","url":"http://127.0.0.1:","expectStatus":200,"timeoutMs":',
    '{"app":"","versions":[{"version":"","files":,"bytes":,"treeSha256":""}]}',
    '{"app":"","version":"","ran":true,"ok":true,"outcome":"exit 0","durationMs":,"output":""}',
    '{"app":"","current":"","previous":"","changed":true}',
    '"command":"activate","args":{"app":"","version":"","rollback":true}}',
    '"command":"facts","args":{}}',
    '{"protocolVersion":1,"id":"","event":"progress","step":"receive","bytes":,"totalBytes":}',
    '{"protocolVersion":1,"id":"","ok":false,',
    '{"protocolVersion":1,"id":"","ok":true,"result":{"app":"","version":"","backend":"btrfs",',
    `"receivedUuid":"","files":,"bytes":,"streamBytes":,"wireBytes":,"alreadyInstalled":false,${EMPTY_SPECIAL}}}`,
    '{"protocolVersion":1,"id":"","event":"ready"}',
    '{"protocolVersion":1,"id":"","command":"receive","args":{"manifest":{"app":"","created":"2026-',
    'T00:00:00Z","kind":"app","manifestVersion":2,"parent":{"treeSha256":"","uuid":"","version":""},',
    '"signature":"","signer":"","stream":{"bytes":,"chunkSize":4194304,"chunks":["","',
    '"],"compression":"none","format":"btrfs-send","sha256":"","uuid":""},"tree":{"bytes":,"files":,',
    '"metaSha256":"","sha256":""},"version":""},"wireEncoding":"keel-delta-2","deltaBase":"","allowSpecial":false}}',
  ].join(""),
  "utf8",
);

/** Raw deflate of `body` against the dictionary (level 9: the frames are small). */
export function deflateJsonD(body: Buffer): Buffer {
  return deflateRawSync(body, {
    level: 9,
    memLevel: 9,
    windowBits: 15,
    strategy: zc.Z_DEFAULT_STRATEGY,
    dictionary: JSON_D1_DICTIONARY,
  });
}

/** The JSON text of a "d" frame, or a message saying why not (the caller raises its FramingError). */
export function inflateJsonD(payload: Buffer, max: number): Buffer | string {
  try {
    return inflateRawSync(payload, { dictionary: JSON_D1_DICTIONARY, maxOutputLength: max });
  } catch (e) {
    return e instanceof RangeError || (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
      ? `dictionary-compressed JSON frame inflates past ${max} bytes (refused)`
      : `dictionary-compressed JSON frame does not decompress (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}
