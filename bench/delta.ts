// `npm run bench:delta` (root): bytes on the wire for updating a host from one real release to the
// next — Keel's delta vs plain btrfs streams, rsync -z, an ostree static delta and zstd --patch-from —
// plus the host's decode time and peak memory. Each pair is encoded as the console's release step
// does, format 1 then format 2 (decision 0040), each encoder in its own process (wall, peak RSS); the
// whole wire is counted for what the console sends a current agent (keel-delta-c and json-d1 frames,
// decision 0044), and for the forms before it (keel-delta-2, keel-delta-1z with brotli frames; run by
// the agent bundle KEEL_BENCH_AGENT_BEFORE names, e.g. a build of the previous commit, else this one).
// KEEL_BENCH_PAIRS=semver,typescript picks pairs by package name. Prints a table and writes the Delta
// section of docs/benchmarks.md. Package tarballs are cached in $KEEL_BENCH_CACHE (default:
// tmpdir/keel-bench-cache).
import { once } from "node:events";
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { ReleaseManifest } from "@/agent/protocol";
import { serveReceive, wireFile, type WireCount } from "./delta-wire";
import {
  btrfsLoop,
  bundleDecoder,
  decodeInChild,
  fetchPackage,
  run,
} from "@/agent/protocol/delta/test-fixtures";

// Every pair is reported (issue 16): a small library patch, a compiler's two bundles, a rebuilt
// native binary, one large JS bundle, a framework with thousands of files.
const PAIRS = [
  { pkg: "semver", from: "7.6.2", to: "7.6.3", shape: "small library patch" },
  { pkg: "typescript", from: "5.8.2", to: "5.8.3", shape: "patch release, large JS files" },
  { pkg: "@esbuild/linux-x64", from: "0.24.1", to: "0.24.2", shape: "native binary rebuilt (Go, 9 MB)" },
  { pkg: "@babel/standalone", from: "7.26.9", to: "7.26.10", shape: "one large JS bundle" },
  { pkg: "next", from: "16.3.8", to: "16.4.0", shape: "minor release, 3,700+ files" },
];
const DATE = process.env.KEEL_BENCH_DATE ?? new Date().toISOString().slice(0, 10);
const BUILT_AGENT = join(__dirname, "..", "agent", "dist", "keel-agent.mjs");
let AGENT = BUILT_AGENT; // a copy in the work directory, so that a rebuild during the run changes nothing
/** The agent for the "before this pass" sessions: KEEL_BENCH_AGENT_BEFORE (a bundle of the previous build), else AGENT. */
let AGENT_BEFORE = BUILT_AGENT;
const ONLY = process.env.KEEL_BENCH_PAIRS?.split(",");
const ENCODER_CHILD = join(__dirname, "delta-encoder-child.ts");
const TSX = join(__dirname, "..", "node_modules", ".bin", "tsx");
const DELTA_DIR = join(__dirname, "..", "agent", "protocol", "delta");

type EncodeFig = { wallMs: number; cpuMs: number; maxRssKiB: number; bytes: number; targetSha256: string };

/** encodeDelta in its own process (bench/delta-encoder-child.ts): its wall, CPU and peak RSS. */
async function encodeInChild(
  parentDir: string,
  target: string,
  out: string,
  version: 1 | 2,
): Promise<EncodeFig> {
  const { stdout } = await promisify(execFile)(
    TSX,
    [ENCODER_CHILD, "encode", DELTA_DIR, parentDir, target, out],
    {
      env: { ...process.env, BENCH_DELTA_VERSION: String(version) },
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as EncodeFig;
}

interface Row {
  pair: string;
  shape: string;
  /**
   * Whole wire of the update (sent + received): before (J frame + keel-delta-1), format 1 (Z +
   * keel-delta-1z, an agent without keel-delta-2) and now (Z + keel-delta-2, what the console sends).
   */
  upBefore: WireCount;
  upFormat1: WireCount;
  upNow: WireCount;
  /** This pass (decision 0044): json-d1 request, keel-delta-c, no progress for a one-frame stream. */
  upCompact: WireCount;
  /** Whole wire of a first install: raw stream (before) and keel-z1 (now); zstd -19 --long of the new tar. */
  firstBefore: WireCount;
  firstNow: WireCount;
  tarZstd: number;
  z1CompressS: number;
  treeBytes: number;
  fullZstd: number;
  incRaw: number;
  incZstd: number;
  rsyncZ: number;
  rsyncSent: number;
  rsyncRecv: number;
  ostree: number;
  patchFrom: number;
  /** Delta alone: format 1 and format 2. */
  keel1: number;
  keel: number;
  /** Encoders on the console (format 1, format 2), each in its own process. */
  encode1: EncodeFig;
  encode2: EncodeFig;
  decodeS: number;
  decodeCpuS: number;
  decodePeakMiB: number;
}

const size = async (p: string) => (await stat(p)).size;

async function zstdSize(file: string, extra: string[] = []): Promise<number> {
  const out = `${file}.zst`;
  await run("zstd", ["-q", "-f", "-19", ...extra, file, "-o", out]);
  const n = await size(out);
  await rm(out);
  return n;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/** rsync -z over a loopback rsync daemon into a copy of the old tree: bytes sent + received. */
async function rsyncBytes(
  work: string,
  oldTree: string,
  newTree: string,
): Promise<{ sent: number; recv: number }> {
  const dest = join(work, "rsync-dest");
  await run("cp", ["-a", oldTree, dest]);
  const port = await freePort();
  const conf = join(work, "rsyncd.conf");
  await writeFile(
    conf,
    `use chroot = no\nuid = root\ngid = root\npid file = ${join(work, "rsyncd.pid")}\n[dest]\npath = ${dest}\nread only = no\n`,
  );
  const daemon = spawn(
    "rsync",
    ["--daemon", "--no-detach", `--config=${conf}`, `--port=${port}`, "--address=127.0.0.1"],
    { stdio: "ignore" },
  );
  try {
    let out = "";
    for (let i = 0; ; i++) {
      try {
        // --checksum: npm tarballs give every file the same mtime, so the size+mtime quick check would skip changed files.
        out = await run("rsync", [
          "-a",
          "-z",
          "--checksum",
          "--delete",
          "--stats",
          `${newTree}/`,
          `rsync://127.0.0.1:${port}/dest/`,
        ]);
        break;
      } catch (e) {
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 250)); // daemon still starting
      }
    }
    await run("diff", ["-r", "-q", newTree, dest]); // the transfer really produced the new tree
    const num = (label: string) => Number(new RegExp(`${label}: ([\\d,]+)`).exec(out)![1]!.replace(/,/g, ""));
    return { sent: num("Total bytes sent"), recv: num("Total bytes received") };
  } finally {
    daemon.kill();
    await rm(dest, { recursive: true, force: true });
  }
}

/** ostree archive repo with both trees committed; size of the static delta between them. */
async function ostreeDelta(work: string, oldTree: string, newTree: string): Promise<number> {
  const repo = join(work, "ostree-repo");
  await run("ostree", [`--repo=${repo}`, "init", "--mode=archive"]);
  const commit = async (branch: string, tree: string) =>
    (
      await run("ostree", [
        `--repo=${repo}`,
        "commit",
        `--branch=${branch}`,
        `--tree=dir=${tree}`,
        "--owner-uid=0",
        "--owner-gid=0",
        "--no-xattrs",
      ])
    ).trim();
  const from = await commit("old", oldTree);
  const to = await commit("new", newTree);
  const file = join(work, "ostree.delta");
  await run("ostree", [
    `--repo=${repo}`,
    "static-delta",
    "generate",
    `--from=${from}`,
    `--to=${to}`,
    "--inline",
    `--filename=${file}`,
  ]);
  const n = await size(file);
  await rm(repo, { recursive: true, force: true });
  return n;
}

async function tarOf(tree: string, out: string): Promise<void> {
  await run("tar", [
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-cf",
    out,
    "-C",
    tree,
    ".",
  ]);
}

interface Keys {
  key: string;
  trusted: string;
  build: string;
}

async function benchPair(
  work: string,
  mnt: string,
  bundle: string,
  p: (typeof PAIRS)[number],
  cache: string,
  keys: Keys,
): Promise<Row> {
  const name = `${p.pkg} ${p.from} → ${p.to}`;
  const log = (m: string) => console.error(`[${name}] ${m}`);
  const src = join(work, "src", p.pkg);
  const oldTree = join(src, "old");
  const newTree = join(src, "new");
  log("fetch and unpack");
  await fetchPackage(p.pkg, p.from, cache, oldTree);
  await fetchPackage(p.pkg, p.to, cache, newTree);
  const app = p.pkg.replace(/^@/, "").replace("/", "-");
  log("build both releases with keel-agent build (as the console does)");
  const out = join(work, "out");
  const built = async (version: string, from: string, parent?: string) =>
    JSON.parse(
      await run(process.execPath, [
        AGENT,
        "build",
        "--store",
        keys.build,
        "--from",
        from,
        "--app",
        app,
        "--version",
        version,
        "--key",
        keys.key,
        "--out",
        out,
        ...(parent ? ["--parent", parent] : []),
      ]),
    ) as {
      full: { manifestPath: string; streamPath: string };
      incremental: { manifestPath: string; streamPath: string };
    };
  const oldB = await built(p.from, oldTree);
  const newB = await built(p.to, newTree, p.from);
  const full = newB.full.streamPath;
  const inc = newB.incremental.streamPath;
  const parentDir = join(keys.build, "apps", app, p.from);

  log("keel: encode against the parent, format 1 then format 2 (as the release step does)");
  const delta1File = join(work, `${app}.delta1`);
  const deltaFile = join(work, `${app}.delta2`);
  const encode1 = await encodeInChild(parentDir, inc, delta1File, 1);
  const encode2 = await encodeInChild(parentDir, inc, deltaFile, 2);
  const incSha = (await run("sha256sum", [inc])).split(" ")[0];
  if (encode1.targetSha256 !== incSha || encode2.targetSha256 !== incSha)
    throw new Error("an encoder read another stream than the signed one");

  log("keel: host holds the old version (received from its full stream) and decodes the delta");
  const host = join(mnt, `host-${app}`);
  await mkdir(host);
  const hostArgs = ["--store", host, "--trusted", keys.trusted];
  await run(process.execPath, [
    AGENT,
    "receive",
    ...hostArgs,
    "--manifest",
    oldB.full.manifestPath,
    "--stream",
    oldB.full.streamPath,
  ]);
  const decoded = join(work, `${app}.decoded`);
  const dec = await decodeInChild(bundle, join(host, "apps", app, p.from), deltaFile, decoded);
  if (dec.error) throw new Error(`decode failed: ${dec.error} ${dec.message}`);
  if (!(await readFile(decoded)).equals(await readFile(inc)))
    throw new Error("decoded stream differs from the signed stream");
  await rm(decoded);

  log("whole wire: keel-agent serve sessions, before and now");
  const manifest = async (f: string) => JSON.parse(await readFile(f, "utf8")) as ReleaseManifest;
  const S = { agent: AGENT, store: host, trusted: keys.trusted };
  const incM = await manifest(newB.incremental.manifestPath);
  const fullM = await manifest(newB.full.manifestPath);
  const remove = () => run(process.execPath, [AGENT, "remove", ...hostArgs, app, p.to]);
  const upBefore = await serveReceive({
    ...S,
    manifest: incM,
    wire: "keel-delta-1",
    file: delta1File,
    json: "j",
  });
  await remove();
  await wireFile(delta1File, "keel-delta-1z", `${delta1File}.z`);
  // Before this pass (decision 0044): the request as a brotli frame with a UUID, on the agent
  // KEEL_BENCH_AGENT_BEFORE names (a build of the previous commit; else this one).
  const upFormat1 = await serveReceive({
    ...S,
    agent: AGENT_BEFORE,
    manifest: incM,
    wire: "keel-delta-1z",
    file: `${delta1File}.z`,
    json: "z",
  });
  await remove();
  await wireFile(deltaFile, "keel-delta-2", `${deltaFile}.z`);
  const upNow = await serveReceive({
    ...S,
    agent: AGENT_BEFORE,
    manifest: incM,
    wire: "keel-delta-2",
    file: `${deltaFile}.z`,
    json: "z",
  });
  await remove();
  // This pass: the delta the console sends (format 2 when smaller, else format 1) with its header
  // compact (keel-delta-c), the request against the json-d1 dictionary, a short id.
  const sentFile = encode2.bytes < encode1.bytes ? deltaFile : delta1File;
  await wireFile(sentFile, "keel-delta-c", `${sentFile}.c`);
  const upCompact = await serveReceive({
    ...S,
    manifest: incM,
    wire: "keel-delta-c",
    file: `${sentFile}.c`,
    json: "d",
    id: "1",
  });
  await remove();
  const firstBefore = await serveReceive({ ...S, manifest: fullM, wire: "raw", file: full, json: "j" });
  await remove();
  const z1CompressS = await wireFile(full, "keel-z1", `${full}.kz1`);
  const firstNow = await serveReceive({
    ...S,
    manifest: fullM,
    wire: "keel-z1",
    file: `${full}.kz1`,
    json: "d",
    id: "1",
  });
  await run(process.execPath, [AGENT, "verify", ...hostArgs, app, p.to]);
  await rm(`${full}.kz1`);

  log("zstd -19 of the full and the incremental stream");
  const fullZstd = await zstdSize(full, ["-T0"]);
  const incZstd = await zstdSize(inc, ["-T0"]);
  const incRaw = await size(inc);
  await rm(full);
  await rm(inc);

  log("zstd --patch-from (reference)");
  const oldTar = join(work, "old.tar");
  const newTar = join(work, "new.tar");
  await tarOf(oldTree, oldTar);
  await tarOf(newTree, newTar);
  const patch = join(work, "patch.zst");
  await run("zstd", ["-q", "-f", "-19", "--long=27", `--patch-from=${oldTar}`, newTar, "-o", patch]);
  const patchFrom = await size(patch);
  const tarZstd = await zstdSize(newTar, ["-T0", "--long=27"]);
  await rm(patch);
  await rm(oldTar);
  await rm(newTar);

  log("rsync -z over a loopback daemon");
  const rs = await rsyncBytes(work, oldTree, newTree);
  log("ostree static delta");
  const ostree = await ostreeDelta(work, oldTree, newTree);

  return {
    pair: name,
    shape: p.shape,
    upBefore,
    upFormat1,
    upNow,
    upCompact,
    firstBefore,
    firstNow,
    tarZstd,
    z1CompressS,
    treeBytes: await treeBytes(newTree),
    fullZstd,
    incRaw,
    incZstd,
    rsyncZ: rs.sent + rs.recv,
    rsyncSent: rs.sent,
    rsyncRecv: rs.recv,
    ostree,
    patchFrom,
    keel1: encode1.bytes,
    keel: encode2.bytes,
    encode1,
    encode2,
    decodeS: dec.ms! / 1000,
    decodeCpuS: dec.cpuMs! / 1000,
    decodePeakMiB: dec.peakRssKiB! / 1024,
  };
}

const kb = (n: number) =>
  n >= 10 * 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
const whole = (w: WireCount) => w.sent + w.back;
/**
 * What the console sent an agent listing keel-delta-2 before decision 0044: the format-2 delta when
 * it is smaller than the format-1 one (server/jobs/rollouts/approved-artifact.ts), else format 1 as
 * keel-delta-1z; the request a brotli frame with a UUID.
 */
const sentBefore = (r: Row) => (r.keel < r.keel1 ? r.upNow : r.upFormat1);
/** What it sends a current agent (decision 0044): the same delta as keel-delta-c, the request as json-d1. */
const sentNow = (r: Row) => r.upCompact;

/** Goal (issue 16): ≤ 1.3× zstd --patch-from when it is over 100 KB, else ≤ 1 KiB above it; below the ostree static delta. */
function goalMet(r: Row): boolean {
  const w = whole(sentNow(r));
  const near = r.patchFrom > 100 * 1024 ? w <= 1.3 * r.patchFrom : w - r.patchFrom <= 1024;
  return near && w < r.ostree;
}

function table(rows: Row[]): string {
  const lines = [
    "| pair | shape | tree | send -p raw | send -p, zstd -19 | rsync -z (sent + received) | ostree static delta | zstd --patch-from (reference) | Keel delta alone, format 1 / format 2 | Keel whole wire, protocol 1 (J + keel-delta-1) | Keel whole wire, format 1 (Z + keel-delta-1z: agents without keel-delta-2) | Keel whole wire, format 2 (Z + keel-delta-2) | Keel whole wire before decision 0044 (what the console sent an agent listing keel-delta-2) | **Keel whole wire now** (d + keel-delta-c: what the console sends a current agent) | now / reference | now − reference | goal met |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const w = whole(sentNow(r));
    lines.push(
      `| ${r.pair} | ${r.shape} | ${kb(r.treeBytes)} | ${kb(r.incRaw)} | ${kb(r.incZstd)} | ${kb(r.rsyncZ)} (${kb(r.rsyncSent)} + ${kb(r.rsyncRecv)}) | ${kb(r.ostree)} | ${kb(r.patchFrom)} | ${kb(r.keel1)} / ${kb(r.keel)} | ${kb(whole(r.upBefore))} | ${kb(whole(r.upFormat1))} | ${kb(whole(r.upNow))} | ${kb(whole(sentBefore(r)))} (${r.keel < r.keel1 ? "keel-delta-2" : "keel-delta-1z"}) | **${kb(w)}** (format ${r.keel < r.keel1 ? 2 : 1}) | ${(w / r.patchFrom).toFixed(2)}× | ${w - r.patchFrom >= 0 ? "+" : "−"}${kb(Math.abs(w - r.patchFrom))} | ${goalMet(r) ? "yes" : "NO"} |`,
    );
  }
  lines.push(
    "",
    "Whole wire of the update, split (bytes): what the console wrote = request frame (the signed manifest) + stream payload + frame headers; what came back = hello, ready, progress and the response.",
    "",
    "| pair | protocol 1: request / payload / framing / back | format 1 (keel-delta-1z): request / payload / framing / back | format 2 (keel-delta-2): request / payload / framing / back | now (d + keel-delta-c): request / payload / framing / back |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  const split = (c: WireCount) =>
    `${c.request} / ${c.payload} / ${c.sent - c.request - c.payload} / ${c.back}`;
  for (const r of rows)
    lines.push(
      `| ${r.pair} | ${split(r.upBefore)} | ${split(r.upFormat1)} | ${split(r.upNow)} | ${split(r.upCompact)} |`,
    );
  lines.push(
    "",
    "First install (the host holds nothing of the app): whole wire, sent + received.",
    "",
    "| pair | full stream raw | full stream, zstd -19 | new tree as tar, zstd -19 --long (tar.zst) | Keel before (raw) | **Keel now (keel-z1)** | now / tar.zst | keel-z1 compression on the console (wall, once per release) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of rows)
    lines.push(
      `| ${r.pair} | ${kb(r.firstBefore.payload)} | ${kb(r.fullZstd)} | ${kb(r.tarZstd)} | ${kb(whole(r.firstBefore))} | **${kb(whole(r.firstNow))}** | ${(whole(r.firstNow) / r.tarZstd).toFixed(2)}× | ${r.z1CompressS.toFixed(1)} s |`,
    );
  lines.push(
    "",
    "| pair | console encode, format 1: wall / CPU / peak RSS | console encode, format 2: wall / CPU / peak RSS | decode of format 2 on the host: wall / CPU | host peak memory (VmHWM of the decoder process) |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  const fig = (e: EncodeFig) =>
    `${(e.wallMs / 1000).toFixed(1)} s / ${(e.cpuMs / 1000).toFixed(1)} s / ${(e.maxRssKiB / 1024).toFixed(0)} MiB`;
  for (const r of rows)
    lines.push(
      `| ${r.pair} | ${fig(r.encode1)} | ${fig(r.encode2)} | ${r.decodeS.toFixed(1)} s / ${r.decodeCpuS.toFixed(1)} s | ${r.decodePeakMiB.toFixed(0)} MiB |`,
    );
  return lines.join("\n");
}

async function writeDocs(rows: Row[], load: string): Promise<void> {
  const file = join(__dirname, "..", "docs", "benchmarks.md");
  let doc = "";
  try {
    doc = await readFile(file, "utf8");
  } catch {
    doc =
      "# Benchmarks\n\nFigures measured on the project's machine; each section is written by its benchmark.\n";
  }
  const section = [
    "## Delta",
    "",
    `Measured ${DATE} by \`npm run bench:delta\` (Debian 12, 2 shared cores, load average ${load}; btrfs-progs 6.2, zstd 1.5.4, rsync 3.2.7, ostree 2022.7).`,
    "Update of a host that holds the old version to the next one, releases fetched with `npm pack` and built with `keel-agent build` (snapshot of the old version + rsync, on a `noatime` mount, signed).",
    "rsync: `rsync -a -z --checksum --delete --stats` to a loopback rsync daemon holding the old tree (`Total bytes sent` + `received`).",
    "ostree: archive repo, both trees committed, `ostree static-delta generate --inline --filename`.",
    "Reference: `zstd -19 --long=27 --patch-from=old.tar new.tar`. Keel delta alone: `encodeDelta` of the `btrfs send -p` stream against the parent subvolume (the bundled decoder gives back the signed stream exactly).",
    "**Whole wire**: a real `keel-agent serve` session on the host's store receives the release; counted is every byte the console wrote (request frame with the signed manifest, DATA frames, END) and every byte the agent wrote back (hello, ready, progress, response).",
    "Protocol 1: as it was (JSON request frame, keel-delta-1 / raw). Format 1 and format 2: the request in a brotli JSON frame with a UUID as its id, the format-1 delta as keel-delta-1z (decision 0030) or the format-2 one as keel-delta-2 (decision 0040), on the agent build named by `KEEL_BENCH_AGENT_BEFORE` (the previous build, when given); before decision 0044 the console sent the format-2 delta when it is smaller than the format-1 one, else the format-1 one. **Now** (decision 0044): the same delta as keel-delta-c (its header compact: parent paths sharing prefixes, 64-bit parent digests), the request in a json-d1 frame (deflate against a preset dictionary) with a short id, the agent answering in json-d1 and sending no progress event for a stream done in one piece; keel-z1 for a full stream (brotli blocks).",
    "Encoders: `encodeDelta` format 1, then format 2 (as the release step does, one after the other), each in its own `node` process (bench/delta-encoder-child.ts; peak RSS is its `maxRSS`).",
    "Goal: Keel's whole wire ≤ 1.3× the reference on pairs where the reference is over 100 KB, at most 1 KiB above it below that, and below the ostree static delta.",
    "",
    table(rows),
    "",
  ].join("\n");
  const re = /## Delta\n[\s\S]*?(?=\n## |$)/;
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}`;
  await mkdir(join(__dirname, "..", "docs"), { recursive: true });
  await writeFile(file, doc.trimEnd() + "\n");
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:delta needs root (btrfs loop image)");
  const cache = process.env.KEEL_BENCH_CACHE ?? join(tmpdir(), "keel-bench-cache");
  const work = await mkdtemp(join(tmpdir(), "keel-bench-delta-"));
  const loop = await btrfsLoop(work, 6);
  // KEEL_BENCH_PRIOR: rows of pairs measured earlier the same day (the figures it printed, one JSON per line).
  const prior = process.env.KEEL_BENCH_PRIOR;
  const rows: Row[] = prior
    ? (await readFile(prior, "utf8"))
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Row)
    : [];
  const loads = [loadavg()[0]!];
  try {
    const bundle = join(work, "decode.mjs");
    await bundleDecoder(bundle);
    await run(process.execPath, [join(__dirname, "..", "agent", "build.mjs")]);
    AGENT = join(work, "keel-agent.mjs");
    await writeFile(AGENT, await readFile(BUILT_AGENT));
    AGENT_BEFORE = AGENT;
    if (process.env.KEEL_BENCH_AGENT_BEFORE) {
      AGENT_BEFORE = join(work, "keel-agent-before.mjs");
      await writeFile(AGENT_BEFORE, await readFile(process.env.KEEL_BENCH_AGENT_BEFORE));
    }
    const keyDir = join(work, "keys");
    await run(process.execPath, [AGENT, "keygen", "--out", keyDir, "--name", "bench"]);
    const trusted = join(work, "trusted");
    await mkdir(trusted);
    await writeFile(join(trusted, "bench.pub"), await readFile(join(keyDir, "bench.pub")));
    const keys: Keys = { key: join(keyDir, "bench.key"), trusted, build: join(loop.mnt, "build") };
    await mkdir(keys.build);
    const done = new Set(rows.map((r) => r.pair));
    for (const p of PAIRS.filter(
      (x) => (!ONLY || ONLY.includes(x.pkg)) && !done.has(`${x.pkg} ${x.from} → ${x.to}`),
    )) {
      const pairWork = join(work, p.pkg.replace(/[@/]/g, "_"));
      await mkdir(pairWork);
      rows.push(await benchPair(pairWork, loop.mnt, bundle, p, cache, keys));
      loads.push(loadavg()[0]!);
      console.error(JSON.stringify(rows.at(-1))); // figures so far, in case a later pair fails
      await rm(pairWork, { recursive: true, force: true });
    }
  } finally {
    await loop.close();
    await rm(work, { recursive: true, force: true });
  }
  const load = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  console.log(table(rows));
  await writeDocs(rows, load);
  const bad = rows.filter((r) => !goalMet(r));
  if (bad.length) {
    console.error(`goal missed for: ${bad.map((r) => r.pair).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
