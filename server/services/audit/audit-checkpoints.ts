// Signed checkpoints of the audit chain's head, kept outside the database (docs/audit.md): one
// JSON line each in <data dir>/audit-checkpoints.jsonl, signed with an ed25519 key that lives in
// the data dir too (never in the database). A checkpoint commits to how many rows the chain had,
// the newest row's id and hash — and through the hash chain to every row before it — so someone
// who can rewrite the table (and recompute every hash after an edit) still cannot make the rows
// agree with a checkpoint written before the edit.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { canonicalJson } from "./audit-hash";

export const CHECKPOINT_FILE = "audit-checkpoints.jsonl";
const KEY_FILE = "audit-checkpoint-key.pem";
const PUBLIC_KEY_FILE = "audit-checkpoint-key.pub.pem";
const DOMAIN = "keel audit checkpoint v1\n";

export const ZAuditCheckpoint = z.strictObject({
  v: z.literal(1),
  /** 1, 2, 3… in the order written. */
  seq: z.number().int().min(1),
  /** When it was written. */
  at: z.iso.datetime(),
  /** Rows in the chain from its first row up to and including `lastId`. */
  rows: z.number().int().min(1),
  lastId: z.string().regex(/^\d+$/),
  /** The newest row's time, action and actor, to name it in a report. */
  lastAt: z.iso.datetime(),
  lastAction: z.string(),
  lastActor: z.string().nullable(),
  /** The newest row's hash: the chain head. */
  head: z.string().regex(/^[0-9a-f]{64}$/),
  /** First 16 hex digits of sha256 of the signing key's public key (SPKI DER). */
  key: z.string(),
  /** ed25519 signature (base64) of DOMAIN + the canonical JSON of every other field. */
  sig: z.string(),
});
export type AuditCheckpoint = z.infer<typeof ZAuditCheckpoint>;

export type CheckpointKey = { privateKey: KeyObject; publicKey: KeyObject; keyId: string };

function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

/** The console's checkpoint key, generated on first use (private key mode 600; the public key beside it for outside verifiers). */
export function loadCheckpointKey(dataDir: string, opts: { create: boolean }): CheckpointKey | null {
  const file = join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    if (!opts.create) return null;
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  chmodSync(file, 0o600);
  const privateKey = createPrivateKey(readFileSync(file));
  const publicKey = createPublicKey(privateKey);
  const pub = join(dataDir, PUBLIC_KEY_FILE);
  if (!existsSync(pub))
    writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }), { mode: 0o644 });
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

const signedBytes = (c: Omit<AuditCheckpoint, "sig">) => Buffer.from(DOMAIN + canonicalJson(c));

export function signCheckpoint(
  fields: Omit<AuditCheckpoint, "sig" | "key" | "v">,
  key: CheckpointKey,
): AuditCheckpoint {
  const unsigned = { v: 1 as const, ...fields, key: key.keyId };
  return { ...unsigned, sig: sign(null, signedBytes(unsigned), key.privateKey).toString("base64") };
}

/** Appends one checkpoint line and syncs it to disk (a checkpoint lost in a crash commits to nothing). */
export function appendCheckpoint(dataDir: string, c: AuditCheckpoint): string {
  const line = JSON.stringify(c);
  const fd = openSync(join(dataDir, CHECKPOINT_FILE), "a+", 0o600);
  try {
    // After a line cut short by a crash, start on a new line.
    const size = fstatSync(fd).size;
    const end = Buffer.alloc(1);
    if (size > 0) readSync(fd, end, 0, 1, size - 1);
    writeSync(fd, (size > 0 && end[0] !== 0x0a ? "\n" : "") + line + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return line;
}

/** The newest checkpoint in the file (read from its end), or null when there is none. */
export function lastCheckpoint(dataDir: string): AuditCheckpoint | null {
  const file = join(dataDir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 16_384);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    // A line cut short by a crash is skipped here (verify reports it); the one before it counts.
    const lines = buf
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim());
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        return ZAuditCheckpoint.parse(JSON.parse(lines[i]!));
      } catch {
        /* damaged: try the previous line */
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

export type CheckpointFile = { checkpoints: AuditCheckpoint[]; problems: string[] };

/** Every checkpoint in the file, each signature checked against the console's key; what does not check out is a problem. */
export function readAuditCheckpoints(dataDir: string): CheckpointFile {
  const file = join(dataDir, CHECKPOINT_FILE);
  if (!existsSync(file)) return { checkpoints: [], problems: [] };
  const key = loadCheckpointKey(dataDir, { create: false });
  const checkpoints: AuditCheckpoint[] = [];
  const problems: string[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file} line ${i + 1}`;
      let c: AuditCheckpoint;
      try {
        c = ZAuditCheckpoint.parse(JSON.parse(line));
      } catch {
        return void problems.push(`${where} is not a checkpoint (the file was edited or damaged)`);
      }
      if (!key)
        return void problems.push(
          `${where} cannot be checked: the checkpoint key ${join(dataDir, KEY_FILE)} is missing`,
        );
      const { sig, ...unsigned } = c;
      if (
        c.key !== key.keyId ||
        !verify(null, signedBytes(unsigned), key.publicKey, Buffer.from(sig, "base64"))
      )
        return void problems.push(
          `${where} (checkpoint ${c.seq}) is not signed by this console's checkpoint key (the file was edited)`,
        );
      const before = checkpoints[checkpoints.length - 1];
      if (before && c.seq !== before.seq + 1)
        problems.push(
          `${where}: checkpoint ${c.seq} follows checkpoint ${before.seq} (checkpoints were removed from or reordered in the file)`,
        );
      checkpoints.push(c);
    });
  return { checkpoints, problems };
}
