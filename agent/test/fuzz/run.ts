// The stream fuzzer (RELIABILITY case 27): valid releases — a full stream and an incremental one
// whose parent holds a symlink pointing out of the store at a root-only secret — are mutated by a
// seeded mutator, each mutant re-signed as a valid manifest (a compromised builder's key signs
// anything: correct chunk digests, the original tree digest, the mutant's own entry counts for
// keel-tree-1) and received through the agent's own receive (in-process: the same code as the CLI,
// `serve` and the resident agent, without a Node start-up per case) on a real btrfs loop image or
// a plain-directory store. After each case the property (property.ts) is checked.
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import type { ReleaseManifest } from "../../protocol";
import { toErrorBody } from "../../src/errors";
import { walkTree } from "../../src/tree-digest";
import { buildRelease, inproc, makeKey, readManifest, resign, writeTree, type Scratch } from "../helpers";
import { checkInstalled, snapshotTree, type Violation, type ViolationKind } from "./property";
import { Rng, caseSeed } from "./rng";
import { mutateSend } from "./send-mutate";
import { mutateTree } from "./tree-mutate";

export type FuzzBackend = "btrfs" | "plain";

/**
 * Classes a case may show without failing. Only one: `content` — a receive checks the tree's
 * metadata digest (`tree.metaSha256`: modes, owners, xattrs, names, sizes) before the version is
 * visible, and the full digest with contents only when the stream clones (decision 0012); the
 * contents come from the signed stream, and `verify` re-hashes them. A mutant that changes only
 * file bytes (and re-signs the stream) installs those bytes, as its builder could have signed
 * them anyway.
 */
export const PENDING: Record<FuzzBackend, readonly ViolationKind[]> = {
  btrfs: ["content"],
  plain: ["content"],
};

const SECRET_MARKER = Buffer.from("KEEL-FUZZ-SENTINEL-SECRET");

interface Base {
  name: string;
  /** The tree the manifest describes (the build store's copy). */
  tree: string;
  manifest: ReleaseManifest;
  stream: Buffer;
}

export interface Fixture {
  backend: FuzzBackend;
  store: string;
  trusted: string;
  key: string;
  work: string;
  sentinel: string;
  sentinelSnap: string;
  parentSha: string;
  storeLayout: string;
  bases: Base[];
  parentFiles: string[];
  secretSha: string;
}

/** A store, a sentinel tree beside it, a signing key, the two valid releases, the parent installed. */
export async function setupFixture(backend: FuzzBackend, s: Scratch): Promise<Fixture> {
  const root = backend === "btrfs" ? s.btrfs("fuzz", 512) : s.dir("fuzz-plain");
  const store = join(root, "store");
  const sentinel = join(root, "sentinel");
  const work = join(root, "work");
  mkdirSync(work, { recursive: true });
  // The secret: one 4 KiB block (clonable whole), root-only, beside the store on the same file system.
  const secret = Buffer.concat([SECRET_MARKER, Buffer.alloc(4096 - SECRET_MARKER.length, 0x53)]);
  writeTree(sentinel, { secret, "sub/file": "sentinel\n" });
  chmodSync(join(sentinel, "secret"), 0o600);
  const { key, trusted } = makeKey(work);
  const src = join(work, "src");
  const data = Buffer.alloc(8192, 0x44);
  writeTree(src, { "bin/app": "#!/bin/sh\necho v1\n", "lib/data": data, "etc/conf": "x=1\n" });
  chmodSync(join(src, "bin/app"), 0o755);
  // From apps/web/<version>/ four levels up is `root`: the parent points at the sentinel.
  symlinkSync("../../../../sentinel", join(src, "up"));
  symlinkSync("bin/app", join(src, "link"));
  const build = join(root, "build");
  const out = join(work, "out");
  const v1 = buildRelease(build, src, "web", "1", key, out);
  writeTree(src, { "bin/app": "#!/bin/sh\necho v2\n", "etc/new": "new\n" });
  const v2 = buildRelease(build, src, "web", "2", key, out, "1");
  await inproc(store, trusted, "receive", { manifest: readManifest(v1.manifest) }, v1.stream);
  const { createHash } = await import("node:crypto");
  return {
    backend,
    store,
    trusted,
    key,
    work,
    sentinel,
    sentinelSnap: snapshotTree(sentinel),
    parentSha: readManifest(v1.manifest).tree.sha256,
    storeLayout: readdirSync(store).sort().join(","),
    bases: [
      {
        name: "full",
        tree: join(build, "apps/web/1"),
        manifest: readManifest(v1.manifest),
        stream: readFileSync(v1.stream),
      },
      {
        name: "incremental",
        tree: join(build, "apps/web/2"),
        manifest: readManifest(v2.incManifest!),
        stream: readFileSync(v2.incStream!),
      },
    ],
    parentFiles: ["bin/app", "lib/data", "etc/conf"],
    secretSha: createHash("sha256").update(secret).digest("hex"),
  };
}

export interface CaseResult {
  backend: FuzzBackend;
  seed: number;
  index: number;
  base: string;
  ops: string[];
  /** "installed", or the error code of the refusal. */
  outcome: string;
  message: string;
  violations: Violation[];
}

/** Case `index` of run `seed`: mutate, sign, receive, check the property. */
export async function runCase(fx: Fixture, seed: number, index: number): Promise<CaseResult> {
  const rng = new Rng(caseSeed(seed, index));
  const base = rng.pick(fx.bases);
  const version = `f${seed}-${index}`;
  let stream: Buffer;
  let ops: string[];
  let tree = base.manifest.tree;
  if (fx.backend === "btrfs") {
    ({ stream, ops } = mutateSend(rng, base.stream, fx.parentFiles));
  } else {
    const m = mutateTree(rng, base.stream, {
      parentFiles: fx.parentFiles,
      secretSize: 4096,
      secretSha: fx.secretSha,
    });
    ({ stream, ops } = m);
    if (m.counts) tree = { ...tree, ...m.counts };
  }
  const streamPath = join(fx.work, "case.stream");
  writeFileSync(streamPath, stream);
  const manifest = readManifest(
    resign({ ...base.manifest, version, tree }, fx.key, join(fx.work, "case.json"), streamPath),
  );
  let outcome = "installed";
  let message = "";
  try {
    await inproc(fx.store, fx.trusted, "receive", { manifest }, streamPath);
  } catch (e) {
    const body = toErrorBody(e, "receive");
    outcome = body.code;
    message = `${body.step}: ${body.message}`;
  }
  const violations: Violation[] = [];
  const dir = join(fx.store, "apps/web", version);
  if (outcome === "installed") {
    violations.push(...checkInstalled(dir, manifest, SECRET_MARKER, base.tree));
    await inproc(fx.store, fx.trusted, "remove", { app: "web", version });
  }
  if (outcome === "INTERNAL") violations.push({ kind: "internal", detail: message });
  const left = [...readdirSync(join(fx.store, ".staging")), ...readdirSync(join(fx.store, ".journal"))];
  if (left.length) violations.push({ kind: "leftover", detail: left.join(", ") });
  if (snapshotTree(fx.sentinel) !== fx.sentinelSnap)
    violations.push({ kind: "outside", detail: "the sentinel tree beside the store changed" });
  if (walkTree(join(fx.store, "apps/web/1"), { withDigest: true }).sha256 !== fx.parentSha)
    violations.push({ kind: "outside", detail: "the installed parent changed" });
  if (readdirSync(fx.store).sort().join(",") !== fx.storeLayout)
    violations.push({ kind: "outside", detail: `the store holds ${readdirSync(fx.store).join(", ")}` });
  if (readdirSync(join(fx.store, "apps/web")).filter((n) => n !== "1" && n !== ".meta").length)
    violations.push({ kind: "outside", detail: "a version was left in apps/web" });
  return { backend: fx.backend, seed, index, base: base.name, ops, outcome, message, violations };
}

export interface FuzzSummary {
  cases: number;
  outcomes: Record<string, number>;
  /** Cases with a violation outside PENDING: the property fails. */
  counterexamples: CaseResult[];
  /** Cases whose only violations are PENDING classes. */
  pending: CaseResult[];
}

/** Runs cases [from, to) of run `seed`, or until `deadline` (ms since epoch). */
export async function runFuzz(
  fx: Fixture,
  seed: number,
  opts: { from?: number; to?: number; deadline?: number; onCase?: (r: CaseResult) => void },
): Promise<FuzzSummary> {
  const sum: FuzzSummary = { cases: 0, outcomes: {}, counterexamples: [], pending: [] };
  for (
    let i = opts.from ?? 0;
    i < (opts.to ?? Infinity) && (opts.deadline === undefined || Date.now() < opts.deadline);
    i++
  ) {
    const r = await runCase(fx, seed, i);
    sum.cases++;
    sum.outcomes[r.outcome] = (sum.outcomes[r.outcome] ?? 0) + 1;
    if (r.violations.some((v) => !PENDING[fx.backend].includes(v.kind))) sum.counterexamples.push(r);
    else if (r.violations.length) sum.pending.push(r);
    opts.onCase?.(r);
  }
  return sum;
}

export function describeCase(r: CaseResult): string {
  const v = r.violations
    .map(
      (x) =>
        `${x.kind}${PENDING[r.backend].includes(x.kind) ? " (allowed at receive; verify re-hashes contents)" : ""}: ${x.detail}`,
    )
    .join("; ");
  return `${r.backend} seed=${r.seed} case=${r.index} (${r.base}; ${r.ops.join(", ")}) → ${r.outcome}${r.message ? ` (${r.message.slice(0, 160)})` : ""}${v ? ` — ${v}` : ""}`;
}
