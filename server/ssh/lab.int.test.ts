// The SSH transport against a real lab fleet (infra/lab): 20 hosts in network namespaces with
// their own sshd, host key and btrfs /var/lib/keel. Facts from all of them at once through the
// real agent, pinned keys (case 12), dropped links (case 13), > 10 channels (case 14), the forced
// command (case 15), flood/hang (case 16), sudo logins and hostile names.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  labDown,
  labExec,
  labFault,
  labRekey,
  labUp,
  readInventory,
  type LabHost,
  type LabInventory,
} from "@/infra/lab/api";
import { hostPaths, labPaths } from "@/infra/lab/names";
import { generateSigningKey } from "@/agent/protocol";
import { ensureAgent, loadAgentBundle, uploadFile, type AgentBundle } from "./agent-install";
import { receiveRelease, runAgent } from "./agent-run";
import { connect } from "./connect";
import { type SshEvent } from "./connection";
import { SshError } from "./errors";
import { fetchHostKeyFingerprint } from "./fetch-host-key";
import { forcedCommandLine, installForcedGate } from "./forced";
import { mapHosts } from "./map-hosts";
import { SshPool } from "./pool";
import { buildCommand } from "./quote";
import { keepaliveBudgetMs, type SshTarget } from "./target";
import { installTrustedKeys } from "./trusted-keys";

// KEEL_SSH_TEST_LAB reuses a running lab (and keeps it) while developing these tests.
const REUSE = process.env.KEEL_SSH_TEST_LAB;
const LAB = REUSE ?? "ssh" + randomBytes(3).toString("hex");
let inv: LabInventory;
let privateKey: string;
let bundle: AgentBundle;
let work: string;

function targetOf(h: LabHost, patch: Partial<SshTarget> = {}): SshTarget {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKey,
    pinnedFingerprint: h.hostKeyFingerprint,
    ...patch,
  };
}
const host = (i: number) => inv.hosts[i]!;

async function onHost(i: number, argv: string[]): Promise<{ code: number; stdout: string }> {
  const r = await labExec(LAB, host(i).name, argv);
  return { code: r.code, stdout: r.stdout };
}

async function expectSshError(p: Promise<unknown>, codes: string[]): Promise<SshError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, `expected one of ${codes.join(", ")}`).toBeInstanceOf(SshError);
  expect(codes).toContain((e as SshError).code);
  return e as SshError;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "keel-ssh-lab-"));
  inv = REUSE ? readInventory(LAB) : await labUp({ lab: LAB, count: 20 });
  privateKey = readFileSync(inv.consoleKey.privateKeyPath!, "utf8");
  bundle = await loadAgentBundle();
}, 600_000);

afterAll(async () => {
  if (!REUSE) await labDown(LAB);
  rmSync(work, { recursive: true, force: true });
}, 300_000);

describe("lab fleet", () => {
  it("collects facts from 20 hosts at once through the agent (uploaded once, then unchanged)", async () => {
    const pool = new SshPool();
    try {
      const started = Date.now();
      const results = await mapHosts(
        inv.hosts.map((h) => targetOf(h)),
        (t) =>
          pool.withConnection(t, async (c) => {
            const ensured = await ensureAgent(c, { bundle });
            return { ensured, facts: await runAgent(c, "facts", {}) };
          }),
        { concurrency: 20 },
      );
      const wallMs = Date.now() - started;
      console.log(`facts from 20 hosts (first contact, agent upload included): ${wallMs} ms`);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      for (const r of results) {
        if (!r.ok) continue;
        expect(r.value.ensured.action).toBe("uploaded");
        expect(r.value.facts.host.hostname).toBe(r.host);
        expect(r.value.facts.store.backend).toBe("btrfs");
        expect(r.value.facts.agent.sha256).toBe(bundle.sha256);
      }
      // each host has its own machine-id: 20 distinct answers
      expect(new Set(results.map((r) => (r.ok ? r.value.facts.host.machineId : null))).size).toBe(20);

      const again = await mapHosts(
        inv.hosts.map((h) => targetOf(h)),
        (t) => pool.withConnection(t, (c) => ensureAgent(c, { bundle })),
        { concurrency: 20 },
      );
      expect(again.map((r) => (r.ok ? r.value.action : r.error.message))).toEqual(
        inv.hosts.map(() => "unchanged"),
      );
      // one connection per host for both rounds
      expect(pool.connectionHighWater).toBe(20);
    } finally {
      await pool.close();
    }
  });

  it("installs release-signing keys into /etc/keel/trusted.d, idempotently", async () => {
    const k1 = generateSigningKey("release-1");
    const k2 = generateSigningKey("release-2");
    const c = await connect(targetOf(host(0)));
    try {
      const first = await installTrustedKeys(c, [k1.publicKeyLine, k2.publicKeyLine]);
      expect(first.installed.sort()).toEqual([k1.keyId, k2.keyId].sort());
      const second = await installTrustedKeys(c, [k1.publicKeyLine], { exclusive: true });
      expect(second).toMatchObject({ installed: [], unchanged: [k1.keyId], removed: [k2.keyId] });
      const ls = await onHost(0, ["ls", "/etc/keel/trusted.d"]);
      expect(ls.stdout.trim().split("\n")).toEqual([`${k1.keyId}.pub`]);
      expect((await onHost(0, ["cat", `/etc/keel/trusted.d/${k1.keyId}.pub`])).stdout).toBe(k1.publicKeyLine);
      await expectSshError(installTrustedKeys(c, ["ssh-ed25519 AAAA not-a-release-key"]), [
        "INVALID_ARGUMENT",
      ]);
    } finally {
      await c.close();
    }
  });

  it("works through sudo -n for a non-root login", async () => {
    const t = targetOf(host(1), { user: host(1).sudoUser, sudo: true });
    const c = await connect(t);
    try {
      expect((await c.run(["id", "-un"])).stdout.toString().trim()).toBe(host(1).sudoUser);
      const ensured = await ensureAgent(c, { bundle });
      expect(["uploaded", "unchanged"]).toContain(ensured.action);
      const facts = await runAgent(c, "facts", {});
      expect(facts.host.hostname).toBe(host(1).name);
      const k = generateSigningKey("sudo");
      await installTrustedKeys(c, [k.publicKeyLine]);
      expect(
        (await onHost(1, ["stat", "-c", "%U %a", `/etc/keel/trusted.d/${k.keyId}.pub`])).stdout.trim(),
      ).toBe("root 644");
    } finally {
      await c.close();
    }
  });
});

describe("streaming a release (issue 4 part 4)", () => {
  it("streams a signed 32 MiB release from disk into the agent's receive with flat console memory", async () => {
    const builder = await connect(targetOf(host(9)));
    const receiver = await connect(targetOf(host(10)));
    const local = join(work, "release");
    try {
      // Build a real signed btrfs-send release on a lab host (the console machine has no btrfs).
      await ensureAgent(builder, { bundle });
      const signing = generateSigningKey("stream-test");
      await uploadFile(
        builder,
        "/var/lib/keel/test/rel.key",
        Buffer.from(signing.privateKeyPem),
        createHash("sha256").update(signing.privateKeyPem).digest("hex"),
        "0600",
        "exec",
      );
      await builder.run(["mkdir", "-p", "/var/lib/keel/test/src"]);
      await builder.run([
        "dd",
        "if=/dev/urandom",
        "of=/var/lib/keel/test/src/blob",
        "bs=1M",
        "count=32",
        "status=none",
      ]);
      const built = JSON.parse(
        (
          await builder.run(
            [
              "node",
              "/usr/local/lib/keel/keel-agent.mjs",
              "build",
              "--store",
              "/var/lib/keel/test/store",
              "--from",
              "/var/lib/keel/test/src",
              "--app",
              "demo",
              "--version",
              "1.0.0",
              "--key",
              "/var/lib/keel/test/rel.key",
              "--out",
              "/var/lib/keel/test/out",
            ],
            { timeoutMs: 110_000 },
          )
        ).stdout.toString(),
      ) as { full: { manifestPath: string; streamPath: string; bytes: number } };
      const manifest = JSON.parse((await builder.run(["cat", built.full.manifestPath])).stdout.toString());
      mkdirSync(local, { recursive: true });
      const streamFile = join(local, "demo-1.0.0.stream");
      const fd = openSync(streamFile, "w");
      await builder.run(["cat", built.full.streamPath], {
        onStdout: (b) => writeSync(fd, b),
        maxOutputBytes: 64 * 1024 * 1024,
      });
      closeSync(fd);
      expect(statSync(streamFile).size).toBe(built.full.bytes);

      await ensureAgent(receiver, { bundle });
      await installTrustedKeys(receiver, [signing.publicKeyLine]);
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      let sent = 0;
      const started = Date.now();
      let result;
      try {
        result = await receiveRelease(receiver, { manifest }, streamFile, {
          timeoutMs: 110_000,
          onSent: (n) => (sent = n),
        });
      } finally {
        clearInterval(sampler);
      }
      console.log(
        `receive of ${(built.full.bytes / 1048576).toFixed(1)} MiB: ${Date.now() - started} ms, console RSS growth ${((peak - rss0) / 1048576).toFixed(1)} MB`,
      );
      expect(result).toMatchObject({
        app: "demo",
        version: "1.0.0",
        backend: "btrfs",
        streamBytes: built.full.bytes,
        alreadyInstalled: false,
      });
      expect(sent).toBe(built.full.bytes);
      expect(peak - rss0).toBeLessThan(48 * 1024 * 1024);
      await runAgent(receiver, "activate", { app: "demo", version: "1.0.0" });
      const facts = await runAgent(receiver, "facts", {});
      expect(facts.apps.find((a) => a.app === "demo")?.current).toBe("1.0.0");
      // the agent refuses a stream that does not match its signed manifest: an AgentCommandError
      const bad = { ...manifest, version: "1.0.1" };
      const e = await expectSshError(
        receiveRelease(receiver, { manifest: bad }, streamFile, { timeoutMs: 60_000 }),
        ["AGENT_FAILED"],
      );
      expect(e.host).toBe(host(10).name);
    } finally {
      await builder.close();
      await receiver.close();
    }
  });
});

describe("host keys (case 12)", () => {
  it("shows the fingerprint an admin can compare, then refuses a re-keyed host before authenticating", async () => {
    const h = host(2);
    expect((await fetchHostKeyFingerprint(h)).fingerprint).toBe(h.hostKeyFingerprint);
    const marker = "/var/lib/keel/.case12-marker";
    const rekey = await labRekey(LAB, h.name);
    const events: SshEvent[] = [];
    const e = await expectSshError(
      connect(targetOf(h), { onEvent: (ev) => events.push(ev) }).then((c) => c.run(["touch", marker])),
      ["HOST_KEY_CHANGED"],
    );
    expect(e.details).toMatchObject({ pinned: h.hostKeyFingerprint, presented: rekey.fingerprint });
    expect(e.host).toBe(h.name);
    expect(events.some((ev) => ev.type === "authenticate")).toBe(false);
    expect((await onHost(2, ["test", "-e", marker])).code).toBe(1);
    // unknown: no pin, nothing accepted
    await expectSshError(connect(targetOf(h, { pinnedFingerprint: null })), ["HOST_KEY_UNKNOWN"]);
    // re-pin: an admin accepted the new fingerprint
    const c = await connect(targetOf(h, { pinnedFingerprint: null }), {
      acceptFingerprint: rekey.fingerprint,
    });
    await c.close();
  });
});

describe("dropped links (case 13)", () => {
  const limits = {
    keepaliveIntervalMs: 1_000,
    keepaliveCountMax: 2,
    connectTimeoutMs: 4_000,
    connectAttempts: 1,
  };
  const budget = keepaliveBudgetMs(limits);
  const slack = 3_000;

  it("notices a drop during a transfer within the keepalive budget", async () => {
    const h = host(3);
    const c = await connect(targetOf(h), { limits });
    try {
      let sent = 0;
      // An endless source that only produces what the channel asks for (pulled by pipeline).
      const endless = Readable.from(
        (async function* () {
          const chunk = Buffer.alloc(64 * 1024, 7);
          for (;;) {
            sent += chunk.length;
            yield chunk;
          }
        })(),
      );
      const transfer = c.exec(["sh", "-c", "cat > /dev/null"], { stdin: endless, timeoutMs: 120_000 });
      while (sent < 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 50));
      await labFault(LAB, h.name, { kind: "drop" });
      const started = Date.now();
      const e = await expectSshError(transfer, ["KEEPALIVE_TIMEOUT", "CONNECTION_LOST"]);
      const noticedMs = Date.now() - started;
      console.log(
        `drop during transfer noticed after ${noticedMs} ms (budget ${budget} ms), ${Math.round(sent / 1048576)} MiB sent`,
      );
      expect(noticedMs).toBeLessThan(budget + slack);
      expect(e.host).toBe(h.name);
      expect(e.message).toContain(h.name);
    } finally {
      await labFault(LAB, h.name, { kind: "restore" });
      await c.close();
    }
  });

  it("notices a drop while a channel is opening, and a connect into a dropped link times out", async () => {
    const h = host(4);
    const c = await connect(targetOf(h), { limits });
    try {
      await labFault(LAB, h.name, { kind: "drop" });
      const started = Date.now();
      const e = await expectSshError(c.run(["true"]), [
        "KEEPALIVE_TIMEOUT",
        "CHANNEL_OPEN_TIMEOUT",
        "CONNECTION_LOST",
      ]);
      expect(Date.now() - started).toBeLessThan(budget + slack);
      expect(e.host).toBe(h.name);
      const t2 = Date.now();
      await expectSshError(connect(targetOf(h), { limits }), ["CONNECT_TIMEOUT"]);
      expect(Date.now() - t2).toBeLessThan(limits.connectTimeoutMs + slack);
    } finally {
      await labFault(LAB, h.name, { kind: "restore" });
      await c.close();
    }
    // the link is back: a new connection works
    const again = await connect(targetOf(h), { limits: { connectAttempts: 3 } });
    await again.run(["true"]);
    await again.close();
  });
});

describe("a burst with slow and lossy hosts (case 25)", () => {
  it("40 handshakes at once to one default sshd (MaxStartups 10:30:100) all get through by jittered retry", async () => {
    const events: SshEvent[] = [];
    const conns = await Promise.allSettled(
      Array.from({ length: 40 }, () => connect(targetOf(host(0)), { onEvent: (e) => events.push(e) })),
    );
    try {
      expect(
        conns.filter((c) => c.status === "rejected").map((c) => String((c as PromiseRejectedResult).reason)),
      ).toEqual([]);
      const retried = events.filter((e) => e.type === "retry").length;
      console.log(`40 concurrent handshakes to one sshd: ${retried} retried after a drop`);
    } finally {
      await Promise.all(conns.map((c) => (c.status === "fulfilled" ? c.value.close() : undefined)));
    }
  });

  it("facts from 19 hosts at once while 2 are slow (300 ms) and 1 loses 10% of its packets: every host answers", async () => {
    const slow = [host(11).name, host(12).name];
    const lossy = host(13).name;
    // host(2) was re-keyed by the case 12 test and is refused by design.
    const hosts = inv.hosts.filter((h) => h !== host(2));
    for (const name of slow) await labFault(LAB, name, { kind: "delay", ms: 300 });
    await labFault(LAB, lossy, { kind: "loss", percent: 10 });
    const pool = new SshPool();
    try {
      const took = new Map<string, number>();
      const results = await mapHosts(
        hosts.map((h) => targetOf(h)),
        (t) =>
          pool.withConnection(t, async (c) => {
            const started = Date.now();
            await ensureAgent(c, { bundle });
            const facts = await runAgent(c, "facts", {});
            took.set(t.name, Date.now() - started);
            return facts;
          }),
        { concurrency: 20 },
      );
      expect(results.filter((r) => !r.ok).map((r) => (r.ok ? "" : `${r.host}: ${r.error.message}`))).toEqual(
        [],
      );
      expect(results.map((r) => (r.ok ? r.value.host.hostname : null))).toEqual(hosts.map((h) => h.name));
      // The delay was in force: the agent check and facts take at least two round trips of 300 ms.
      for (const name of slow) expect(took.get(name)!).toBeGreaterThanOrEqual(600);
      const fast = hosts
        .filter((h) => !slow.includes(h.name) && h.name !== lossy)
        .map((h) => took.get(h.name)!);
      console.log(
        `slow hosts ${slow.map((n) => took.get(n)).join(", ")} ms; lossy ${took.get(lossy)} ms; fast median ${fast.sort((a, b) => a - b)[Math.floor(fast.length / 2)]} ms`,
      );
    } finally {
      await pool.close();
      for (const name of [...slow, lossy]) await labFault(LAB, name, { kind: "restore" });
    }
  });
});

describe("channels and output (cases 14, 16)", () => {
  it("runs 30 commands at once on one connection to a default sshd (MaxSessions 10)", async () => {
    const c = await connect(targetOf(host(5)));
    try {
      const rs = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          c.run(["sh", "-c", 'sleep 0.3; printf %s "$1"', "sh", String(i)]),
        ),
      );
      expect(rs.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
      expect(c.channelHighWater).toBeLessThanOrEqual(10);
    } finally {
      await c.close();
    }
  });

  it("bounds a flooding host and a host that never answers", async () => {
    const c = await connect(targetOf(host(6)));
    try {
      const pidOf = async (f: string) => Number((await onHost(6, ["cat", f])).stdout.trim());
      await expectSshError(
        c.exec(["sh", "-c", "echo $$ > /var/lib/keel/yes.pid; exec yes flood"], {
          maxOutputBytes: 2 * 1024 * 1024,
        }),
        ["OUTPUT_TOO_LARGE"],
      );
      const t = Date.now();
      await expectSshError(
        c.exec(["sh", "-c", "echo $$ > /var/lib/keel/sleep.pid; exec sleep 600"], { timeoutMs: 1_000 }),
        ["COMMAND_TIMEOUT"],
      );
      expect(Date.now() - t).toBeLessThan(6_000);
      // no leftovers on the host (lab hosts share the machine's pid namespace)
      await new Promise((r) => setTimeout(r, 1_500));
      expect(existsSync(`/proc/${await pidOf("/var/lib/keel/yes.pid")}`)).toBe(false);
      expect(existsSync(`/proc/${await pidOf("/var/lib/keel/sleep.pid")}`)).toBe(false);
    } finally {
      await c.close();
    }
  });

  it("keeps hostile host names in messages only, never in a command", async () => {
    const evilName = `$(touch /var/lib/keel/pwned-name);\n-rf`;
    const t = targetOf(host(7), { name: evilName });
    const [r] = await mapHosts([t], (x) =>
      connect(x).then(async (c) =>
        (await c.run(["hostname"]).finally(() => c.close())).stdout.toString().trim(),
      ),
    );
    expect(r).toMatchObject({ ok: true, value: host(7).name, host: evilName });
    expect((await onHost(7, ["test", "-e", "/var/lib/keel/pwned-name"])).code).toBe(1);
    const bad = await mapHosts(
      [targetOf(host(7), { user: "root;touch /tmp/x" }), targetOf(host(7), { agentPath: "/tmp/$(id).mjs" })],
      (x) => connect(x),
    );
    expect(bad.map((b) => (b.ok ? "ok" : `${b.error.code}/${b.error.step}`))).toEqual([
      "INVALID_TARGET/validate",
      "INVALID_TARGET/validate",
    ]);
  });
});

describe("forced command (case 15)", () => {
  let forcedKey: string;
  let forcedTarget: SshTarget;
  const marker = "/var/lib/keel/.case15-marker";

  function raw(fn: (c: Client, done: (v: string) => void) => void): Promise<string> {
    const h = host(8);
    return new Promise((resolve, reject) => {
      const c = new Client();
      const timer = setTimeout(() => {
        c.destroy();
        reject(new Error("raw ssh2 session timed out"));
      }, 20_000);
      c.on("error", reject);
      c.on("ready", () =>
        fn(c, (v) => {
          clearTimeout(timer);
          c.end();
          resolve(v);
        }),
      );
      c.connect({
        host: h.address,
        port: h.port,
        username: "root",
        privateKey: forcedKey,
        hostVerifier: () => true,
      });
    });
  }

  beforeAll(async () => {
    const h = host(8);
    const admin = await connect(targetOf(h));
    await ensureAgent(admin, { bundle });
    await installForcedGate(admin);
    await admin.close();
    const keyFile = join(work, "forced_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "keel-forced", "-f", keyFile]);
    forcedKey = readFileSync(keyFile, "utf8");
    const line = forcedCommandLine({ publicKey: readFileSync(`${keyFile}.pub`, "utf8") });
    const hp = hostPaths(labPaths(LAB), h.index);
    appendFileSync(join(hp.authorizedKeysDir, "root"), line + "\n");
    forcedTarget = targetOf(h, { privateKey: forcedKey, forcedCommand: true });
    // a file the attacker would like node to load through NODE_OPTIONS
    await onHost(8, [
      "sh",
      "-c",
      `printf '%s' "require('fs').writeFileSync('${marker}', 'x')" > /var/lib/keel/evil.js`,
    ]);
  });

  it("lets the console's key run the agent and nothing else", async () => {
    const c = await connect(forcedTarget);
    try {
      const v = await runAgent(c, "version", {});
      expect(v.sha256).toBe(bundle.sha256);
      expect((await ensureAgent(c, { bundle })).action).toBe("unchanged");
      const facts = await runAgent(c, "facts", {});
      expect(facts.host.hostname).toBe(host(8).name);
      for (const argv of [
        ["touch", marker],
        ["sh", "-c", `touch ${marker}`],
        ["node", "/usr/local/lib/keel/keel-agent.mjs", "serve", "--store", "/tmp"],
        ["node", "/usr/local/lib/keel/keel-agent.mjs", "facts"],
        ["node", "-e", `require('fs').writeFileSync('${marker}','x')`],
      ]) {
        const r = await c.exec(argv);
        expect(r.exitCode, argv.join(" ")).toBe(126);
        expect(r.stderr.toString()).toContain("keel-forced: refused");
      }
    } finally {
      await c.close();
    }
    expect((await onHost(8, ["test", "-e", marker])).code).toBe(1);
  });

  it("refuses shell syntax, a pty, port forwarding, X11 and environment injection", async () => {
    const serve = buildCommand(["node", "/usr/local/lib/keel/keel-agent.mjs", "serve"]);
    const execRaw = (cmd: string, opts: Record<string, unknown> = {}) =>
      raw((c, done) =>
        c.exec(cmd, opts, (err, ch) => {
          if (err) return done(`error: ${err.message}`);
          let out = "";
          ch.stderr.on("data", (d: Buffer) => (out += d.toString()));
          ch.on("data", () => {});
          ch.on("exit", (code: number) => (out += ` exit ${code}`));
          ch.on("close", () => done(out));
          ch.end();
        }),
      );
    for (const cmd of [
      `${serve}; touch ${marker}`,
      `${serve}$(touch ${marker})`,
      `${serve}\ntouch ${marker}`,
      `touch ${marker}`,
    ]) {
      expect(await execRaw(cmd)).toMatch(/refused.*exit 126/s);
    }
    expect(await execRaw(serve, { pty: true })).toMatch(/error: .*pseudo-terminal|error: .*pty/i);
    expect(await execRaw(serve, { x11: true })).toMatch(/error: .*X11/i);
    // environment requests are ignored by sshd; the agent starts without NODE_OPTIONS
    expect(
      await execRaw(serve, {
        env: { NODE_OPTIONS: "--require /var/lib/keel/evil.js", LD_PRELOAD: "/var/lib/keel/evil.so" },
      }),
    ).toMatch(/exit 0/);
    const fwd = await raw((c, done) =>
      c.forwardOut("127.0.0.1", 0, "127.0.0.1", 22, (err) =>
        done(err ? `error: ${err.message}` : "forwarded"),
      ),
    );
    expect(fwd).toMatch(/error: .*(prohibited|open failed)/i);
    const listen = await raw((c, done) =>
      c.forwardIn("127.0.0.1", 0, (err) => done(err ? `error: ${err.message}` : "listening")),
    );
    expect(listen).toMatch(/error/);
    expect((await onHost(8, ["test", "-e", marker])).code).toBe(1);
  });

  it("reports an outdated agent instead of uploading over a forced command", async () => {
    const c = await connect(forcedTarget);
    try {
      const other = { ...bundle, sha256: "0".repeat(64) };
      const e = await expectSshError(ensureAgent(c, { bundle: other }), ["AGENT_OUTDATED"]);
      expect(e.message).toContain("forced command");
    } finally {
      await c.close();
    }
    expect(existsSync(work)).toBe(true);
  });
});
