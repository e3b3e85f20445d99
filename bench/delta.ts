// `npm run bench:delta` (root): bytes on the wire for updating a host from one real release to the
// next — Keel's delta vs plain btrfs streams, rsync -z, an ostree static delta and zstd --patch-from —
// plus the host's decode time and peak memory. Prints a table and writes the Delta section of
// docs/benchmarks.md. Package tarballs are cached in $KEEL_BENCH_CACHE (default: tmpdir/keel-bench-cache).
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeDelta } from "../agent/protocol/delta/encode";
import {
  btrfsLoop,
  buildVersionPair,
  bundleDecoder,
  decodeInChild,
  fetchPackage,
  run,
} from "../agent/protocol/delta/test-fixtures";

const PAIRS = [
  { pkg: "typescript", from: "5.8.2", to: "5.8.3" },
  { pkg: "next", from: "16.3.8", to: "16.4.0" },
];
const DATE = process.env.KEEL_BENCH_DATE ?? "2026-11-26";

interface Row {
  pair: string;
  treeBytes: number;
  fullZstd: number;
  incRaw: number;
  incZstd: number;
  rsyncZ: number;
  rsyncSent: number;
  rsyncRecv: number;
  ostree: number;
  patchFrom: number;
  keel: number;
  encodeS: number;
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

async function benchPair(
  work: string,
  mnt: string,
  bundle: string,
  p: (typeof PAIRS)[number],
  cache: string,
): Promise<Row> {
  const name = `${p.pkg} ${p.from} → ${p.to}`;
  const log = (m: string) => console.error(`[${name}] ${m}`);
  const src = join(work, "src", p.pkg);
  const oldTree = join(src, "old");
  const newTree = join(src, "new");
  log("fetch and unpack");
  await fetchPackage(p.pkg, p.from, cache, oldTree);
  await fetchPackage(p.pkg, p.to, cache, newTree);
  const oldSub = `${p.pkg}-old`;
  const newSub = `${p.pkg}-new`;
  log("build subvolumes");
  await buildVersionPair(mnt, oldTree, newTree, oldSub, newSub);

  const full = join(work, `${p.pkg}.full`);
  const inc = join(work, `${p.pkg}.inc`);
  await run("btrfs", ["send", "-q", "-f", full, join(mnt, newSub)]);
  await run("btrfs", ["send", "-q", "-p", join(mnt, oldSub), "-f", inc, join(mnt, newSub)]);

  log("keel: encode against the parent");
  const deltaFile = join(work, `${p.pkg}.delta`);
  const t0 = performance.now();
  const ws = createWriteStream(deltaFile);
  const enc = await encodeDelta({ parentDir: join(mnt, oldSub), target: inc, out: ws });
  ws.end();
  await once(ws, "close");
  const encodeS = (performance.now() - t0) / 1000;

  log("keel: host holds the old version (received from its full stream), decodes, receives");
  const host = join(mnt, `host-${p.pkg}`);
  await mkdir(host);
  const oldFull = join(work, `${p.pkg}.oldfull`);
  await run("btrfs", ["send", "-q", "-f", oldFull, join(mnt, oldSub)]);
  await run("btrfs", ["receive", "-q", "-f", oldFull, host]);
  await rm(oldFull);
  const decoded = join(work, `${p.pkg}.decoded`);
  const dec = await decodeInChild(bundle, join(host, oldSub), deltaFile, decoded);
  if (dec.error) throw new Error(`decode failed: ${dec.error} ${dec.message}`);
  if (!(await readFile(decoded)).equals(await readFile(inc)))
    throw new Error("decoded stream differs from the signed stream");
  await run("btrfs", ["receive", "-q", "-f", decoded, host]);
  await run("diff", ["-r", "-q", newTree, join(host, newSub)]);
  await rm(decoded);

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
  await rm(patch);
  await rm(oldTar);
  await rm(newTar);

  log("rsync -z over a loopback daemon");
  const rs = await rsyncBytes(work, oldTree, newTree);
  log("ostree static delta");
  const ostree = await ostreeDelta(work, oldTree, newTree);

  return {
    pair: name,
    treeBytes: await treeBytes(newTree),
    fullZstd,
    incRaw,
    incZstd,
    rsyncZ: rs.sent + rs.recv,
    rsyncSent: rs.sent,
    rsyncRecv: rs.recv,
    ostree,
    patchFrom,
    keel: enc.bytes,
    encodeS,
    decodeS: dec.ms! / 1000,
    decodeCpuS: dec.cpuMs! / 1000,
    decodePeakMiB: dec.peakRssKiB! / 1024,
  };
}

const kb = (n: number) =>
  n >= 10 * 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;

function table(rows: Row[]): string {
  const lines = [
    "| pair | tree | full stream, zstd -19 | send -p raw | send -p, zstd -19 | rsync -z (sent + received) | ostree static delta | zstd --patch-from (reference) | **Keel delta** | Keel / reference | goal met |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const ratio = r.keel / r.patchFrom;
    const ok = ratio <= 1.5 && r.keel < r.rsyncZ && r.keel < r.ostree;
    lines.push(
      `| ${r.pair} | ${kb(r.treeBytes)} | ${kb(r.fullZstd)} | ${kb(r.incRaw)} | ${kb(r.incZstd)} | ${kb(r.rsyncZ)} (${kb(r.rsyncSent)} + ${kb(r.rsyncRecv)}) | ${kb(r.ostree)} | ${kb(r.patchFrom)} | **${kb(r.keel)}** | ${ratio.toFixed(2)}× | ${ok ? "yes" : "NO"} |`,
    );
  }
  lines.push(
    "",
    "| pair | Keel encode on the console (wall) | decode on the host: wall / CPU | host peak memory (VmHWM of the decoder process) |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const r of rows)
    lines.push(
      `| ${r.pair} | ${r.encodeS.toFixed(1)} s | ${r.decodeS.toFixed(1)} s / ${r.decodeCpuS.toFixed(1)} s | ${r.decodePeakMiB.toFixed(0)} MiB |`,
    );
  return lines.join("\n");
}

async function writeDocs(rows: Row[]): Promise<void> {
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
    `Measured ${DATE} by \`npm run bench:delta\` (Debian 12, 2 shared cores; btrfs-progs 6.2, zstd 1.5.4, rsync 3.2.7, ostree 2022.7).`,
    "Update of a host that holds the old version to the next one, releases fetched with `npm pack`.",
    "Streams come from read-only subvolumes built like the console does (snapshot of the old version + `rsync -a --checksum --delete`, on a `noatime` mount).",
    "rsync: `rsync -a -z --checksum --delete --stats` to a loopback rsync daemon holding the old tree (`Total bytes sent` + `received`).",
    "ostree: archive repo, both trees committed, `ostree static-delta generate --inline --filename`.",
    "Reference: `zstd -19 --long=27 --patch-from=old.tar new.tar`. Keel: `encodeDelta` of the `btrfs send -p` stream against the parent subvolume;",
    "the host decodes it (bundled decoder, plain `node`, child process) against its own received copy of the parent, the bytes equal the signed stream and `btrfs receive` applies them.",
    "Goal: Keel ≤ 1.5× the reference and below rsync -z and the ostree static delta.",
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
  const loop = await btrfsLoop(work, 4);
  const rows: Row[] = [];
  try {
    const bundle = join(work, "decode.mjs");
    await bundleDecoder(bundle);
    for (const p of PAIRS) {
      const pairWork = join(work, p.pkg);
      await mkdir(pairWork);
      rows.push(await benchPair(pairWork, loop.mnt, bundle, p, cache));
      console.error(JSON.stringify(rows.at(-1))); // figures so far, in case a later pair fails
      await rm(pairWork, { recursive: true, force: true });
    }
  } finally {
    await loop.close();
    await rm(work, { recursive: true, force: true });
  }
  console.log(table(rows));
  await writeDocs(rows);
  const bad = rows.filter((r) => !(r.keel <= 1.5 * r.patchFrom && r.keel < r.rsyncZ && r.keel < r.ostree));
  if (bad.length) {
    console.error(`goal missed for: ${bad.map((r) => r.pair).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
