// Someone with the database password (a superuser) rewrites the audit log and recomputes every
// hash after the edit, or deletes the newest rows: the chain alone still verifies, the signed
// checkpoints in the console's data dir do not — verify names the row and the checkpoint. Also:
// a clean log verifies, an edited checkpoint file is caught, the checkpointer refuses to vouch
// for a rewritten log, and it checkpoints promptly after an important event (webhook copy).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { createDb } from "@/server/db";
import { appendAudit } from "./append-audit";
import { deleteNewestAuditRows, rewriteAuditRow } from "@/server/test/audit-tamper";
import { CHECKPOINT_FILE, readAuditCheckpoints } from "./audit-checkpoints";
import { verifyAuditChain } from "./verify-audit-chain";
import { writeAuditCheckpoint } from "./write-audit-checkpoint";
import { startAuditCheckpointer } from "./start-audit-checkpointer";

let t: TestDatabase;
let db: PrismaClient; // the console: the app role
let su: PrismaClient; // the attacker: a superuser
let dataDir: string;
const servers: Server[] = [];

beforeEach(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  su = createDb(t.superuserUrl);
  dataDir = mkdtempSync(join(tmpdir(), "keel-audit-cp-"));
});
afterEach(async () => {
  await db.$disconnect();
  await su.$disconnect();
  await t.drop();
  rmSync(dataDir, { recursive: true, force: true });
});
afterAll(() => servers.forEach((s) => s.close()));

async function append(n: number, actor = "test.append") {
  for (let i = 0; i < n; i++) await appendAudit(db, { actorId: null, action: actor, detail: { i } });
}

const rewrite = (id: bigint, detail: object) => rewriteAuditRow(su, id, detail);
const deleteNewest = (n: number) => deleteNewestAuditRows(su, n);

const ids = async () =>
  (await db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((r) => r.id);

describe("audit checkpoints", () => {
  it("a clean log verifies against its checkpoints; the key stays in the data dir, mode 600", async () => {
    await append(10);
    expect(await writeAuditCheckpoint({ db, dataDir })).toMatchObject({
      written: true,
      checkpoint: { seq: 1, rows: 10 },
    });
    expect(await writeAuditCheckpoint({ db, dataDir })).toEqual({ written: false, reason: "unchanged" });
    await append(5);
    expect(await writeAuditCheckpoint({ db, dataDir })).toMatchObject({
      written: true,
      checkpoint: { seq: 2, rows: 15 },
    });
    const r = await verifyAuditChain({ db, dataDir });
    expect(r).toMatchObject({ ok: true, rows: 15, checkpoints: { count: 2, newest: { seq: 2, rows: 15 } } });
    expect(statSync(join(dataDir, "audit-checkpoint-key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, CHECKPOINT_FILE)).mode & 0o777).toBe(0o600);
  });

  it("reports a superuser's rewrite with recomputed hashes: the row and the checkpoint, and what still matches", async () => {
    await append(10);
    await writeAuditCheckpoint({ db, dataDir });
    await append(10, "rollout.approve");
    await writeAuditCheckpoint({ db, dataDir });
    await append(3);
    const all = await ids();
    await rewrite(all[13]!, { i: 999 }); // the 14th row: after checkpoint 1, before checkpoint 2

    expect(await verifyAuditChain({ db })).toMatchObject({ ok: true, rows: 23 }); // the chain alone is fooled
    const r = await verifyAuditChain({ db, dataDir });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe("rewrite");
    expect(r.brokenAt?.id).toBe(all[19]!.toString()); // the row checkpoint 2 committed to
    expect(r.message).toMatch(
      new RegExp(
        `^audit row ${all[19]} \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC, rollout\\.approve\\) differs from checkpoint 2 of .*: the log was rewritten after that time \\(rows after #${all[9]} \\(checkpoint 1 of .*, which still matches\\) up to #${all[19]} were changed`,
      ),
    );
    // The checkpointer does not vouch for the rewritten log.
    const w = await writeAuditCheckpoint({ db, dataDir });
    expect(w).toMatchObject({ written: false, reason: "tampered" });
    expect(readAuditCheckpoints(dataDir).checkpoints).toHaveLength(2);
  });

  it("reports the newest rows deleted as a truncation, naming the checkpoint's last row", async () => {
    await append(8, "policy.activate");
    await writeAuditCheckpoint({ db, dataDir });
    const all = await ids();
    await deleteNewest(3);
    expect(await verifyAuditChain({ db })).toMatchObject({ ok: true, rows: 5 });
    const r = await verifyAuditChain({ db, dataDir });
    expect(r).toMatchObject({ ok: false, kind: "truncation", rows: 5, brokenAt: null });
    if (r.ok) return;
    expect(r.message).toMatch(
      new RegExp(
        `^the audit log was truncated: checkpoint 1 of .* counted 8 rows up to audit row ${all[7]} \\(.* UTC, policy\\.activate\\); the database has 5, the newest audit row ${all[4]} \\(`,
      ),
    );
    // Appending more afterwards does not hide it: the 8th row is now another one.
    await append(4);
    expect(await verifyAuditChain({ db, dataDir })).toMatchObject({ ok: false, kind: "rewrite" });
  });

  it("goes on after a line cut short by a crash, which verify reports", async () => {
    await append(2);
    await writeAuditCheckpoint({ db, dataDir });
    const file = join(dataDir, CHECKPOINT_FILE);
    writeFileSync(file, readFileSync(file, "utf8") + '{"v":1,"seq":2,"at":"2026-');
    await append(1);
    expect(await writeAuditCheckpoint({ db, dataDir })).toMatchObject({
      written: true,
      checkpoint: { seq: 2, rows: 3 },
    });
    const r = await verifyAuditChain({ db, dataDir });
    expect(r).toMatchObject({ ok: false, kind: "checkpoints" });
    if (!r.ok) expect(r.message).toMatch(/line 2 is not a checkpoint \(the file was edited or damaged\)/);
    expect(readAuditCheckpoints(dataDir).checkpoints.map((c) => c.seq)).toEqual([1, 2]);
  });

  it("reports a checkpoint file someone edited", async () => {
    await append(3);
    await writeAuditCheckpoint({ db, dataDir });
    const file = join(dataDir, CHECKPOINT_FILE);
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace(/"rows":3/, '"rows":2'));
    const r = await verifyAuditChain({ db, dataDir });
    expect(r).toMatchObject({ ok: false, kind: "checkpoints" });
    if (!r.ok)
      expect(r.message).toMatch(/line 1 \(checkpoint 1\) is not signed by this console's checkpoint key/);
    // A signed line removed from the middle leaves a gap in the numbers.
    writeFileSync(file, good);
    for (let i = 0; i < 2; i++) {
      await append(1);
      await writeAuditCheckpoint({ db, dataDir });
    }
    const lines = readFileSync(file, "utf8").trim().split("\n");
    writeFileSync(file, [lines[0], lines[2]].join("\n") + "\n");
    const gap = await verifyAuditChain({ db, dataDir });
    expect(gap).toMatchObject({ ok: false, kind: "checkpoints" });
    if (!gap.ok)
      expect(gap.message).toMatch(/line 2: checkpoint 3 follows checkpoint 1 \(checkpoints were removed/);
  });

  it("checkpoints within about a second of an important event, with copies to a webhook and a syslog server; a final one on stop", async () => {
    const syslog = createSocket("udp4");
    const datagrams: string[] = [];
    let gotDatagram: () => void = () => undefined;
    syslog.on("message", (m) => (datagrams.push(m.toString()), gotDatagram()));
    await new Promise<void>((r) => syslog.bind(0, "127.0.0.1", r));
    const posted: string[] = [];
    let got: () => void = () => undefined;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        posted.push(body);
        res.end();
        got();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const logged: string[] = [];
    const cp = await startAuditCheckpointer({
      db,
      databaseUrl: t.url,
      dataDir,
      intervalSeconds: 3600,
      webhookUrl: `http://127.0.0.1:${port}/cp`,
      syslog: `udp://127.0.0.1:${syslog.address().port}`,
      log: (l) => logged.push(l),
    });
    try {
      await cp.flush(); // the empty log: nothing to write
      const arrived = new Promise<void>((r) => (got = r));
      const datagram = new Promise<void>((r) => (gotDatagram = r));
      await appendAudit(db, { actorId: null, action: "user.create", target: "user:eve@keel.local" });
      await arrived; // woken by the commit's NOTIFY, not by the hour-long interval
      await datagram;
      expect(JSON.parse(posted[0]!)).toMatchObject({ seq: 1, rows: 1, lastAction: "user.create" });
      // An RFC 3164/5424 line from logger: tag, then the same JSON.
      expect(datagrams[0]).toMatch(/keel-audit/);
      expect(JSON.parse(datagrams[0]!.slice(datagrams[0]!.indexOf("{")))).toEqual(JSON.parse(posted[0]!));
      expect(logged).toEqual([]);
      await appendAudit(db, { actorId: null, action: "rollout.host_step" }); // high volume: left to the interval (here: to stop)
    } finally {
      await cp.stop();
      syslog.close();
    }
    const { checkpoints } = readAuditCheckpoints(dataDir);
    expect(checkpoints.map((c) => [c.seq, c.rows, c.lastAction])).toEqual([
      [1, 1, "user.create"],
      [2, 2, "rollout.host_step"],
    ]);
    expect(await verifyAuditChain({ db, dataDir })).toMatchObject({ ok: true, rows: 2 });
  });
});
