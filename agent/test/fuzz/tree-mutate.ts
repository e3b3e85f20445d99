// Mutating a valid keel-tree-1 stream the way a hostile builder could: record fields (modes,
// owners, sizes, paths, link targets, hard-link sources, parent digests), records inserted,
// removed, duplicated and swapped, keys added (xattrs), and raw bytes (headers, length prefixes,
// file data). The end record is usually recounted so that the deeper checks are reached.
import type { Rng } from "./rng";

type Obj = Record<string, unknown>;
interface Rec {
  /** The header bytes (JSON, or raw bytes after a byte-level mutation). */
  header: Buffer;
  obj: Obj | null;
  data: Buffer;
}

const PREAMBLE = 12;

export function parseTree(buf: Buffer): Rec[] {
  const recs: Rec[] = [];
  let off = PREAMBLE;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const header = buf.subarray(off + 4, off + 4 + len);
    const obj = JSON.parse(header.toString("utf8")) as Obj;
    off += 4 + len;
    const s = obj.t === "f" ? (obj.s as number) : 0;
    recs.push({ header: Buffer.from(header), obj, data: Buffer.from(buf.subarray(off, off + s)) });
    off += s;
  }
  return recs;
}

function encode(preamble: Buffer, recs: Rec[]): Buffer {
  const parts = [preamble];
  for (const r of recs) {
    const h = r.obj ? Buffer.from(JSON.stringify(r.obj)) : r.header;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(h.length);
    parts.push(len, h, r.data);
  }
  return Buffer.concat(parts);
}

export interface TreeContext {
  /** Paths of the parent version's regular files, and the sentinel secret's size and SHA-256. */
  parentFiles: string[];
  secretSize: number;
  secretSha: string;
}

const PATHS = [
  "up/secret",
  "up",
  "up/sub/file",
  "../x",
  "/etc/passwd",
  "a\0b",
  "a\nb",
  "a\ud800",
  "s/x",
  "",
  ".",
  "x/./y",
  "s/pwned",
  "a".repeat(300),
];
const TARGETS = ["/etc", "../../../../sentinel", "", "a\0b", "up"];

function fieldValue(rng: Rng, key: string, r: Obj, paths: string[], ctx: TreeContext): unknown {
  switch (key) {
    case "m":
      return rng.pick([
        0o4755,
        0o2775,
        0o6777,
        0o104755,
        2 ** 32 + 0o4755,
        0o7777,
        -1,
        1.5,
        "493",
        2 ** 53,
        0o1777,
      ]);
    case "u":
    case "g":
      return rng.pick([0, 1000, 0xffffffff, -1, 2 ** 32, 0.5]);
    case "s":
      return rng.pick([0, (r.s as number) + 1, (r.s as number) - 1, 2 ** 53 - 1, 1e20, ctx.secretSize]);
    case "mt":
      return rng.pick([-1, 0, 1e300, 2 ** 53]);
    case "p":
      return rng.chance(0.3) && paths.length ? rng.pick(paths) : rng.pick(PATHS);
    case "target":
      return rng.pick(TARGETS);
    case "to":
      return rng.pick([...paths, "up/secret", "s", "nonexistent", "."]);
    case "sha":
      return rng.pick([ctx.secretSha, "0".repeat(64), "XYZ"]);
    case "t":
      return rng.pick(["d", "f", "l", "h", "P", "c", "b", "e", "x"]);
    default:
      return rng.pick([0, 1, 2 ** 53, -1]);
  }
}

function template(rng: Rng, paths: string[], ctx: TreeContext): Rec[] {
  const rec = (obj: Obj, data = Buffer.alloc(0)): Rec => ({ header: Buffer.alloc(0), obj, data });
  const owner = { u: 0, g: 0, mt: 0 };
  switch (rng.int(8)) {
    case 0:
      return [
        rec({ t: "l", p: "s", ...owner, target: rng.pick(TARGETS) }),
        rec(
          { t: "f", p: rng.pick(["s/pwned", "s/secret"]), m: 0o644, ...owner, s: 6 },
          Buffer.from("pwned\n"),
        ),
      ];
    case 1:
      return [
        rec({
          t: "P",
          p: rng.pick(["up/secret", ...ctx.parentFiles]),
          m: 0o600,
          ...owner,
          s: ctx.secretSize,
          sha: ctx.secretSha,
        }),
      ];
    case 2:
      return [rec({ t: "h", p: "hl", to: rng.pick(["up/secret", "up", ...paths]) })];
    case 3:
      return [rec({ t: "d", p: ".", m: rng.pick([0o755, 0o4755, 0o2775]), ...owner })];
    case 4:
      return [rec({ t: "c", p: "dev0", m: 0o644, u: 0, g: 0, rdev: 0x103 })];
    case 5:
      return [
        rec(
          { t: "f", p: rng.pick(paths.length ? paths : ["x"]), m: 0o644, ...owner, s: 3 },
          Buffer.from("dup"),
        ),
      ];
    case 6:
      return [
        rec(
          { t: "f", p: "cap", m: 0o755, ...owner, s: 3, x: { "security.capability": "AQAAAoAAAAA=" } },
          Buffer.from("cap"),
        ),
      ];
    default:
      return [
        rec({ t: "f", p: "new", m: rng.pick([0o4755, 0o644, 0o2755]), ...owner, s: 4 }, Buffer.from("new\n")),
      ];
  }
}

/** Recounts the end record (entries and bytes as a correct reader would count them), where it can. */
function recount(recs: Rec[]): { files: number; bytes: number } | null {
  const sizes = new Map<string, number>();
  let files = 0;
  let bytes = 0;
  for (const r of recs) {
    const o = r.obj;
    if (!o || o.t === "e") continue;
    if (o.p === ".") continue;
    files++;
    const s = o.t === "f" || o.t === "P" ? Number(o.s) : o.t === "h" ? (sizes.get(String(o.to)) ?? 0) : 0;
    if (Number.isSafeInteger(s) && s >= 0) bytes += s;
    sizes.set(String(o.p), s);
  }
  const end = recs.at(-1)?.obj;
  if (!end || end.t !== "e" || !Number.isSafeInteger(bytes)) return null; // a manifest cannot even be signed over that
  end.files = files;
  end.bytes = bytes;
  return { files, bytes };
}

/** Applies 1–3 mutations; returns the stream, the tree counts to sign (or null: keep the manifest's) and what was done. */
export function mutateTree(
  rng: Rng,
  stream: Buffer,
  ctx: TreeContext,
): { stream: Buffer; counts: { files: number; bytes: number } | null; ops: string[] } {
  const preamble = stream.subarray(0, PREAMBLE);
  const recs = parseTree(stream);
  const paths = recs.flatMap((r) => (typeof r.obj?.p === "string" && r.obj.p !== "." ? [r.obj.p] : []));
  const ops: string[] = [];
  const body = () => 1 + rng.int(Math.max(1, recs.length - 2));
  let raw: ((b: Buffer) => void) | null = null;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const k = rng.int(100);
    if (k < 5) {
      // The parent's `up` is a symlink out of the store: declare `up` a directory here and link the
      // parent's up/secret (its real digest) — only a reader that follows the symlink takes it.
      const at = recs.findIndex((r) => r.obj?.p === "up");
      if (at < 0) continue;
      recs[at] = {
        header: Buffer.alloc(0),
        obj: { t: "d", p: "up", m: 0o755, u: 0, g: 0, mt: 0 },
        data: Buffer.alloc(0),
      };
      recs.splice(at + 1, 0, {
        header: Buffer.alloc(0),
        obj: { t: "P", p: "up/secret", m: 0o600, u: 0, g: 0, mt: 0, s: ctx.secretSize, sha: ctx.secretSha },
        data: Buffer.alloc(0),
      });
      ops.push("link the parent's up/secret");
    } else if (k < 30) {
      const at = body();
      const t = template(rng, paths, ctx);
      recs.splice(at, 0, ...t);
      ops.push(`insert ${t.map((r) => r.obj?.t).join("+")} at ${at}`);
    } else if (k < 60) {
      const r = recs[rng.chance(0.15) ? 0 : body()];
      if (!r?.obj) continue;
      const keys = Object.keys(r.obj);
      const key = rng.chance(0.1) ? rng.pick(["x", "xattrs", "caps", "acl"]) : rng.pick(keys);
      r.obj[key] =
        key === "x" || key === "xattrs"
          ? { "security.capability": "AQAAAoAAAAA=" }
          : fieldValue(rng, key, r.obj, paths, ctx);
      ops.push(`set ${key} of ${String(r.obj.p)}`);
    } else if (k < 67) {
      recs.splice(body(), 1);
      ops.push("remove a record");
    } else if (k < 74) {
      const at = body();
      const r = recs[at];
      if (!r) continue;
      recs.splice(at, 0, {
        header: Buffer.from(r.header),
        obj: r.obj && { ...r.obj },
        data: Buffer.from(r.data),
      });
      ops.push(`duplicate ${String(r.obj?.p)}`);
    } else if (k < 79) {
      const at = body();
      if (at + 1 < recs.length - 1) [recs[at], recs[at + 1]] = [recs[at + 1]!, recs[at]!];
      ops.push("swap two records");
    } else if (k < 87) {
      const r = recs[body()];
      if (!r) continue;
      const h = Buffer.from(r.obj ? JSON.stringify(r.obj) : r.header);
      h[rng.int(h.length)]! ^= 1 << rng.int(8);
      r.header = h;
      r.obj = null;
      ops.push("bit flip in a header");
    } else if (k < 92) {
      const r = recs[body()];
      if (r && r.data.length) r.data[rng.int(r.data.length)]! ^= 1 << rng.int(8);
      ops.push("bit flip in file data");
    } else if (k < 96) {
      const r = recs[body()];
      if (!r?.obj) continue;
      r.header = Buffer.from(
        JSON.stringify(r.obj).replace(/:(\d+)/, rng.pick([": $1", ":$1.0", ":$1e0", ':"$1"'])),
      );
      r.obj = null;
      ops.push("a header written another way");
    } else {
      const pos = PREAMBLE + rng.int(Math.max(1, stream.length - PREAMBLE));
      const delta = rng.pick([1, -1, 0x10000, 0x7fffffff]);
      raw = (b) => {
        if (pos + 4 <= b.length) b.writeUInt32BE((b.readUInt32BE(pos) + delta) >>> 0, pos);
      };
      ops.push(`raw word change at ${pos}`);
    }
  }
  const counts = rng.chance(0.7) ? recount(recs) : null;
  const out = encode(preamble, recs);
  raw?.(out);
  return { stream: out, counts, ops };
}
