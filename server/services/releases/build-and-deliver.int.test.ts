// Builds releases on a real btrfs data directory (loop image) with the console's keel-agent,
// then delivers them to a host store on a second btrfs loop image with the agent's own
// `receive`, over the wire encoding the planner reports: the host must end up with trees
// byte-identical to the sources (contents, modes, symlinks), the incremental stream must be far
// smaller than the full one, and the planner must pick the nearest version the host holds.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import type { ReleaseDeps } from "./deps";
import { buildRelease } from "./build-release";
import { planStream } from "./plan-stream";
import { openReleaseStream } from "./open-release-stream";
import { getRelease } from "./get-release";
import { pushRelease } from "./push-release";
import { deleteRelease } from "./delete-release";
import { importPublicKey } from "@/server/services/keys/import-public-key";
import { generateSigningKey } from "@/agent/protocol";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";
import { buildTestAgentBundle } from "@/server/test/agent-bundle";

/** Every entry below `dir`: type, mode, owner, content digest or link target. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = join(rel, name);
      const st = lstatSync(join(dir, p));
      const head = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out[p] = `${head} -> ${readlinkSync(join(dir, p))}`;
      else if (st.isDirectory()) {
        out[p] = head;
        walk(p);
      } else
        out[p] = `${head} ${st.size} ${createHash("sha256")
          .update(readFileSync(join(dir, p)))
          .digest("hex")}`;
    }
  };
  walk("");
  return out;
}

describe("building releases on btrfs and delivering them to a host", () => {
  let tdb: TestDatabase;
  let db: PrismaClient;
  let root: string;
  const mounts: string[] = [];
  let deps: ReleaseDeps;
  let hostStore: string;
  let builderStore: string;
  let trusted: string;
  let agentBundle: string;
  const src = (v: string) => join(root, `src-${v}`);

  function btrfs(name: string, mib: number): string {
    const mnt = mountBtrfs(root, name, `${mib}M`);
    mounts.push(mnt);
    return mnt;
  }

  function hostAgent(args: string[]) {
    const r = spawnSync(
      process.execPath,
      [agentBundle, ...args, "--store", hostStore, "--trusted", trusted],
      { maxBuffer: 64 << 20 },
    );
    const out = r.stdout.toString();
    if (r.status !== 0)
      throw new Error(`keel-agent ${args[0]} exited ${r.status}: ${out} ${r.stderr.toString()}`);
    return JSON.parse(out);
  }

  /** Sends what the planner chose to the host the way a rollout would: signed manifest + wire bytes. */
  async function deliver(app: string, version: string) {
    const appDir = join(hostStore, "apps", app);
    const held = (existsSync(appDir) ? readdirSync(appDir) : []).filter(
      (n) => !n.startsWith(".") && n !== "current" && n !== "previous",
    );
    const plan = await planStream({ db, hostVersions: held, app, version, producer: deps });
    const s = await openReleaseStream(deps, plan);
    const dir = mkdtempSync(join(root, "send-"));
    writeFileSync(join(dir, "manifest.json"), s.manifest);
    const wire = s.openEncoded ? "keel-delta-1" : "raw";
    await pipeline(await (s.openEncoded ?? s.open)(), createWriteStream(join(dir, "wire")));
    const r = hostAgent([
      "receive",
      "--manifest",
      join(dir, "manifest.json"),
      "--stream",
      join(dir, "wire"),
      "--wire",
      wire,
    ]);
    return { plan, wire, result: r };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "keel-build-"));
    tdb = await createTestDatabase();
    db = createDb(tdb.url);
    agentBundle = join(root, "keel-agent.mjs");
    await buildTestAgentBundle(agentBundle);
    process.env.KEEL_AGENT_BUNDLE = agentBundle;
    const dataDir = btrfs("console", 512);
    const hostFs = btrfs("host", 512);
    hostStore = join(hostFs, "store");
    builderStore = join(hostFs, "builder"); // a build machine elsewhere, with its own key
    mkdirSync(hostStore);
    mkdirSync(builderStore);
    trusted = join(root, "trusted.d");
    mkdirSync(trusted);
    deps = {
      db,
      dataDir,
      store: createDiskArtifactStore({ dataDir }),
      box: createSecretBox({ secret: "b".repeat(40), dataDir }),
      actorId: null,
    };
    await createSigningKey(deps, { name: "console" });
    // What enrollment installs on the host.
    for (const k of await listTrustedPublicKeys({ db }))
      writeFileSync(join(trusted, k.fileName), k.publicKeyLine);

    // Version 1.0: text, a 4 MiB binary, an executable, a symlink, an empty directory.
    const v1 = src("1.0");
    mkdirSync(join(v1, "bin"), { recursive: true });
    mkdirSync(join(v1, "share", "empty"), { recursive: true });
    writeFileSync(join(v1, "README"), "keel test app\n");
    writeFileSync(join(v1, "share", "data.bin"), randomBytes(4 << 20));
    writeFileSync(join(v1, "bin", "app"), "#!/bin/sh\necho 1.0\n");
    chmodSync(join(v1, "bin", "app"), 0o755);
    symlinkSync("bin/app", join(v1, "run"));
    writeFileSync(join(v1, "old.txt"), "removed in 2.0\n");
    // 2.0: one byte of the big file changes, a file goes, one comes, the link moves, a mode changes.
    const v2 = src("2.0");
    execFileSync("cp", ["-a", `${v1}/.`, v2]);
    const big = readFileSync(join(v2, "share", "data.bin"));
    big[123_456]! ^= 0xff;
    writeFileSync(join(v2, "share", "data.bin"), big);
    unlinkSync(join(v2, "old.txt"));
    writeFileSync(join(v2, "bin", "app"), "#!/bin/sh\necho 2.0\n");
    writeFileSync(join(v2, "CHANGELOG"), "2.0: better\n");
    unlinkSync(join(v2, "run"));
    symlinkSync("bin/app2", join(v2, "run"));
    chmodSync(join(v2, "README"), 0o600);
    // 3.0: more of the same.
    const v3 = src("3.0");
    execFileSync("cp", ["-a", `${v2}/.`, v3]);
    writeFileSync(join(v3, "share", "extra.bin"), randomBytes(300_000));
    writeFileSync(join(v3, "bin", "app"), "#!/bin/sh\necho 3.0\n");
  });

  afterAll(async () => {
    await db?.$disconnect();
    await tdb?.drop();
    for (const m of mounts.reverse()) {
      unmountBtrfs(m);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("builds 1.0 from a directory and 2.0 from a .tar.zst, with a small incremental stream", async () => {
    const r1 = await buildRelease(deps, { app: "web", version: "1.0", source: { dir: src("1.0") } });
    expect(r1).toMatchObject({ parent: null, incrementalBytes: null, tree: { files: 8 } });
    expect(r1.fullBytes).toBeGreaterThan(4 << 20);

    const tar = spawnSync("tar", ["--create", "--zstd", "--file=-", `--directory=${src("2.0")}`, "."], {
      maxBuffer: 64 << 20,
    });
    expect(tar.status).toBe(0);
    const r2 = await buildRelease(deps, {
      app: "web",
      version: "2.0",
      source: { tar: Readable.from([tar.stdout]), compression: "zstd" },
    });
    expect(r2.parent).toBe("1.0");
    // btrfs send works on extents: the changed byte costs its 4 KiB-ish extent, not 4 MiB.
    expect(r2.incrementalBytes).toBeLessThan(r2.fullBytes / 10);
    const detail = await getRelease(deps, { app: "web", version: "2.0" });
    expect(detail.hasSubvolume).toBe(true);
    expect(detail.deltas).toEqual([expect.objectContaining({ direction: "to", otherVersion: "1.0" })]);
    expect(detail.deltas[0]!.wireBytes).toBeLessThan(detail.deltas[0]!.streamBytes);

    // The console's copies are read-only subvolumes.
    expect(() => writeFileSync(join(deps.dataDir, "subvolumes", "apps", "web", "2.0", "x"), "")).toThrow(
      /EROFS|read-only/,
    );
    await expect(
      buildRelease(deps, { app: "web", version: "2.0", source: { dir: src("2.0") } }),
    ).rejects.toThrow(/already exists/);
  });

  it("a host with nothing gets the full stream; holding 1.0 it gets the incremental one, and the trees match the sources", async () => {
    const first = await deliver("web", "1.0");
    expect(first.plan.kind).toBe("full");
    expect(snapshotTree(join(hostStore, "apps", "web", "1.0"))).toEqual(snapshotTree(src("1.0")));

    const second = await deliver("web", "2.0");
    expect(second.plan).toMatchObject({ kind: "delta", parent: "1.0" });
    expect(second.wire).toBe("keel-delta-1");
    expect(second.plan.bytes).toBeLessThan(100_000);
    if (process.env.KEEL_PRINT_FIGURES)
      console.info("figures", JSON.stringify({ full: first.plan.bytes, delta: second.plan }));
    expect(snapshotTree(join(hostStore, "apps", "web", "2.0"))).toEqual(snapshotTree(src("2.0")));
  });

  it("for a version two steps ahead, makes the delta from the nearest version the host holds", async () => {
    await buildRelease(deps, { app: "web", version: "3.0", source: { dir: src("3.0") } });
    // The host holds 1.0 and 2.0: 2.0 → 3.0 was cached by the build.
    expect(await planStream({ db, hostVersions: ["1.0", "2.0"], app: "web", version: "3.0" })).toMatchObject({
      kind: "delta",
      parent: "2.0",
    });
    // Holding only 1.0 (a host that skipped 2.0): 1.0 → 3.0 is made now, once.
    expect(await planStream({ db, hostVersions: ["1.0"], app: "web", version: "3.0" })).toMatchObject({
      kind: "full",
    });
    const made = await planStream({ db, hostVersions: ["1.0"], app: "web", version: "3.0", producer: deps });
    expect(made).toMatchObject({ kind: "delta", parent: "1.0" });
    expect(
      await planStream({ db, hostVersions: ["1.0"], app: "web", version: "3.0", producer: deps }),
    ).toEqual(made);
    expect(await db.releaseDelta.count()).toBe(3);

    hostAgent(["remove", "web", "2.0"]);
    const third = await deliver("web", "3.0");
    expect(third.plan).toMatchObject({ kind: "delta", parent: "1.0" });
    expect(snapshotTree(join(hostStore, "apps", "web", "3.0"))).toEqual(snapshotTree(src("3.0")));
  });

  it("keeps pushed releases as subvolumes too, so deltas between them can be made and received", async () => {
    const builderKey = generateSigningKey("builder");
    writeFileSync(join(root, "builder.key"), builderKey.privateKeyPem, { mode: 0o600 });
    await importPublicKey(deps, { name: "builder", publicKey: builderKey.publicKeyLine });
    // Hosts learn new keys when the console installs its trusted keys on them (enrollment).
    for (const k of await listTrustedPublicKeys({ db }))
      writeFileSync(join(trusted, k.fileName), k.publicKeyLine);
    const out = join(root, "builder-out");
    const builder = (args: string[]) => {
      const r = spawnSync(process.execPath, [
        agentBundle,
        "build",
        "--store",
        builderStore,
        "--key",
        join(root, "builder.key"),
        "--out",
        out,
        ...args,
      ]);
      if (r.status !== 0) throw new Error(r.stdout.toString() + r.stderr.toString());
      return JSON.parse(r.stdout.toString());
    };
    const b1 = builder(["--from", src("1.0"), "--app", "api", "--version", "1.0"]);
    const b2 = builder(["--from", src("2.0"), "--app", "api", "--version", "1.1", "--parent", "1.0"]);
    for (const b of [b1, b2]) {
      const r = await pushRelease(deps, {
        manifest: readFileSync(b.full.manifestPath, "utf8"),
        stream: Readable.from([readFileSync(b.full.streamPath)]),
      });
      expect(r.status).toBe("created");
    }
    expect((await getRelease(deps, { app: "api", version: "1.1" })).hasSubvolume).toBe(true);

    const first = await deliver("api", "1.0");
    expect(first.plan.kind).toBe("full");
    const second = await deliver("api", "1.1");
    expect(second.plan).toMatchObject({ kind: "delta", parent: "1.0" });
    expect(second.plan.bytes).toBeLessThan(100_000);
    expect(snapshotTree(join(hostStore, "apps", "api", "1.1"))).toEqual(snapshotTree(src("2.0")));

    // Deleting a release removes its subvolume from the console's store.
    hostAgent(["remove", "api", "1.0"]);
    await deleteRelease(deps, { app: "api", version: "1.0" });
    expect(existsSync(join(deps.dataDir, "subvolumes", "apps", "api", "1.0"))).toBe(false);
    expect(existsSync(join(deps.dataDir, "subvolumes", "apps", "api", "1.1"))).toBe(true);
  });
});
