// The SSH transport against a real OpenSSH server on 127.0.0.1 (a throwaway sshd per suite):
// host-key pinning before authentication, channel caps and "open failed" recovery, bounded
// output, timeouts, non-UTF-8, argv injection, keepalive, streaming memory, the pool.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./connect";
import { type SshEvent } from "./connection";
import { SshError } from "./errors";
import { fetchHostKeyFingerprint } from "./fetch-host-key";
import { SshPool } from "./pool";
import { startLocalSshd, freePort, type LocalSshd } from "./test-support/local-sshd";
import { type SshTarget } from "./target";

let sshd: LocalSshd;
let work: string;

function target(patch: Partial<SshTarget> = {}): SshTarget {
  return {
    name: "local-1",
    address: "127.0.0.1",
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    pinnedFingerprint: sshd.fingerprint,
    ...patch,
  };
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function descendantsOf(pid: number): number[] {
  const kids = childrenOf(pid);
  return kids.flatMap((k) => [k, ...descendantsOf(k)]);
}

async function expectSshError(p: Promise<unknown>, code: string): Promise<SshError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SshError);
    expect((e as SshError).code).toBe(code);
    return e as SshError;
  }
  throw new Error(`expected SshError ${code}, but it succeeded`);
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !existsSync(`/proc/${pid}`);
}

beforeAll(async () => {
  sshd = await startLocalSshd({ extraAddresses: ["127.0.0.2", "127.0.0.3"] });
  work = mkdtempSync(join(tmpdir(), "keel-ssh-int-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("host key pinning (case 12)", () => {
  it("shows the host key fingerprint without authenticating", async () => {
    const before = sshd.log();
    const info = await fetchHostKeyFingerprint({ name: "local-1", address: "127.0.0.1", port: sshd.port });
    expect(info.fingerprint).toBe(sshd.fingerprint);
    expect(info.keyType).toBe("ssh-ed25519");
    expect(sshd.log().slice(before.length)).not.toMatch(/publickey|Accepted|Failed/);
  });

  it("refuses an unknown key before authenticating, and connects once the presented key is accepted", async () => {
    const events: SshEvent[] = [];
    const marker = join(work, "unknown-marker");
    const e = await expectSshError(
      connect(target({ pinnedFingerprint: null }), { onEvent: (ev) => events.push(ev) }).then((c) =>
        c.run(["touch", marker]),
      ),
      "HOST_KEY_UNKNOWN",
    );
    expect(e.step).toBe("verify-host-key");
    expect(e.details?.presented).toBe(sshd.fingerprint);
    expect(e.message).toContain("local-1");
    expect(events.some((ev) => ev.type === "authenticate")).toBe(false);
    expect(existsSync(marker)).toBe(false);

    await expectSshError(
      connect(target({ pinnedFingerprint: null }), { acceptFingerprint: "SHA256:" + "A".repeat(43) }),
      "HOST_KEY_UNKNOWN",
    );

    const c = await connect(target({ pinnedFingerprint: null }), { acceptFingerprint: sshd.fingerprint });
    expect(c.fingerprint).toBe(sshd.fingerprint);
    await c.run(["touch", marker]);
    expect(existsSync(marker)).toBe(true);
    await c.close();
  });

  it("stops on a changed key with nothing sent: no authentication, no command", async () => {
    const oldPin = sshd.fingerprint;
    await sshd.rekey();
    expect(sshd.fingerprint).not.toBe(oldPin);
    const events: SshEvent[] = [];
    const marker = join(work, "changed-marker");
    const e = await expectSshError(
      connect(target({ pinnedFingerprint: oldPin }), { onEvent: (ev) => events.push(ev) }).then((c) =>
        c.run(["touch", marker]),
      ),
      "HOST_KEY_CHANGED",
    );
    expect(e.details).toMatchObject({ pinned: oldPin, presented: sshd.fingerprint });
    expect(e.message).toMatch(/changed.*Nothing was sent.*re-pin/s);
    expect(events.filter((ev) => ev.type === "connect-attempt")).toHaveLength(1); // not retried
    expect(events.some((ev) => ev.type === "authenticate")).toBe(false);
    expect(existsSync(marker)).toBe(false);
    // sshd saw a key exchange but never an authentication request
    expect(sshd.log()).not.toMatch(/publickey|Accepted|Failed|Postponed/);
  });

  it("reports a refused key as AUTH_FAILED naming the user", async () => {
    const other = join(work, "other_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const e = await expectSshError(
      connect(target({ privateKey: readFileSync(other, "utf8") }), { limits: { connectAttempts: 1 } }),
      "AUTH_FAILED",
    );
    expect(e.message).toContain(sshd.user);
  });

  it("retries refused connections with backoff, then fails with a clear message", async () => {
    const port = await freePort();
    const events: SshEvent[] = [];
    const started = Date.now();
    const e = await expectSshError(
      connect(target({ port }), {
        limits: { connectAttempts: 3, retryBaseMs: 50, retryMaxMs: 100 },
        onEvent: (ev) => events.push(ev),
      }),
      "CONNECT_FAILED",
    );
    expect(events.filter((ev) => ev.type === "retry")).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });
});

describe("channels (case 14)", () => {
  it("runs 25 commands at once on one connection with at most 10 channels open", async () => {
    const c = await connect(target());
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => c.run(["sh", "-c", 'sleep 0.2; printf %s "$1"', "sh", String(i)])),
    );
    expect(results.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(c.channelHighWater).toBe(10);
    await c.close();
  });

  it("recovers from sshd refusing sessions (MaxSessions 3): every command still runs", async () => {
    const tight = await startLocalSshd({ maxSessions: 3 });
    try {
      const events: SshEvent[] = [];
      const c = await connect(
        {
          name: "tight",
          address: "127.0.0.1",
          port: tight.port,
          user: tight.user,
          privateKey: tight.privateKey,
          pinnedFingerprint: tight.fingerprint,
        },
        { onEvent: (ev) => events.push(ev) },
      );
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          c.run(["sh", "-c", 'sleep 0.1; printf %s "$1"', "sh", String(i)]),
        ),
      );
      expect(results.map((r) => r.stdout.toString())).toEqual(
        Array.from({ length: 15 }, (_, i) => String(i)),
      );
      expect(events.some((ev) => ev.type === "channel-open-failed")).toBe(true);
      expect(c.channelLimit).toBeLessThanOrEqual(3);
      await c.close();
    } finally {
      await tight.stop();
    }
  });
});

describe("output and time limits (case 16)", () => {
  it("stops a host that floods output, keeps memory bounded, and kills the remote process", async () => {
    const c = await connect(target());
    const pidFile = join(work, "flood.pid");
    const rss0 = process.memoryUsage().rss;
    const e = await expectSshError(
      c.exec(["sh", "-c", 'echo $$ > "$1"; exec yes keel-flood', "sh", pidFile], {
        maxOutputBytes: 4 * 1024 * 1024,
      }),
      "OUTPUT_TOO_LARGE",
    );
    expect(e.message).toMatch(/more than 4 MiB/);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);
    expect(await waitGone(Number(readFileSync(pidFile, "utf8")), 5_000)).toBe(true);
    // the connection stays usable
    expect((await c.run(["echo", "still here"])).stdout.toString()).toBe("still here\n");
    await c.close();
  });

  it("times out a command that never ends and kills it", async () => {
    const c = await connect(target());
    const pidFile = join(work, "sleep.pid");
    const started = Date.now();
    const e = await expectSshError(
      c.exec(["sh", "-c", 'echo $$ > "$1"; exec sleep 600', "sh", pidFile], { timeoutMs: 1_000 }),
      "COMMAND_TIMEOUT",
    );
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(e.message).toMatch(/did not finish within 1 s/);
    expect(await waitGone(Number(readFileSync(pidFile, "utf8")), 5_000)).toBe(true);
    await c.close();
  });

  it("keeps non-UTF-8 output byte-exact and decodes it lossily for people", async () => {
    const c = await connect(target());
    const r = await c.run(["printf", "ok \\377\\376 \\300\\200 end"]);
    expect([...r.stdout]).toEqual([
      ...Buffer.from("ok "),
      0xff,
      0xfe,
      0x20,
      0xc0,
      0x80,
      ...Buffer.from(" end"),
    ]);
    const { lossyText } = await import("./exec");
    expect(lossyText(r.stdout)).toContain("\ufffd");
    await c.close();
  });

  it("reports a failing command with its exit status and stderr", async () => {
    const c = await connect(target());
    const e = await expectSshError(c.run(["ls", "/nonexistent-keel"]), "COMMAND_FAILED");
    expect(e.details?.exitCode).toBe(2);
    expect(e.message).toMatch(/local-1.*No such file/);
    await c.close();
  });
});

describe("argument injection", () => {
  it("passes hostile words as literal arguments: nothing is executed, files get the literal names", async () => {
    const c = await connect(target());
    const pwned = join(work, "pwned");
    const hostile = [
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      `x; touch ${pwned}`,
      `x\ntouch ${pwned}`,
      `x && touch ${pwned}`,
      `x | touch ${pwned}`,
      "-rf",
      "--version",
      "it's",
      "*",
      "$HOME",
    ];
    const r = await c.run(["printf", "%s\\0", ...hostile]);
    expect(r.stdout.toString().split("\0").slice(0, -1)).toEqual(hostile);
    const dir = join(work, "names");
    await c.run(["mkdir", "-p", "--", dir]);
    for (const h of ["-rf", "$(id)", "a;b", "semi;colon\nnewline", "it's"])
      await c.run(["touch", "--", join(dir, h)]);
    expect(readdirSync(dir).sort()).toEqual(["$(id)", "-rf", "a;b", "it's", "semi;colon\nnewline"].sort());
    expect(existsSync(pwned)).toBe(false);
    await c.close();
  });

  it("refuses hostile host names, users and paths before connecting", async () => {
    for (const patch of [
      { address: "127.0.0.1;touch /tmp/x" },
      { address: "-oProxyCommand=touch /tmp/x" },
      { user: "root$(id)" },
      { user: "-oProxyCommand" },
      { agentPath: "/usr/local/lib/keel/$(id).mjs" },
      { agentPath: "/usr/local/lib/keel/a\nb.mjs" },
    ]) {
      await expectSshError(connect(target(patch)), "INVALID_TARGET");
    }
  });
});

describe("keepalive and dead peers (case 13, simulated by freezing the sshd session)", () => {
  it("notices a frozen peer during a transfer within the keepalive budget", async () => {
    const limits = { keepaliveIntervalMs: 500, keepaliveCountMax: 2 };
    const c = await connect(target(), { limits });
    // This connection's sshd processes: the listener's children and theirs (privilege separation).
    const sessions = descendantsOf(sshd.pid());
    expect(sessions.length).toBeGreaterThan(0);
    const big = join(work, "zeros");
    execFileSync("truncate", ["-s", "64M", big]);
    const transfer = c.exec(["sh", "-c", "sleep 0.5; cat > /dev/null"], {
      stdin: createReadStream(big),
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of sessions) process.kill(pid, "SIGSTOP");
    const started = Date.now();
    try {
      const e = await transfer.then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(SshError);
      expect(["KEEPALIVE_TIMEOUT", "CONNECTION_LOST"]).toContain((e as SshError).code);
      // budget = 500 ms × (2 + 1) = 1.5 s; allow scheduling slack on a busy machine
      expect(Date.now() - started).toBeLessThan(1_500 + 2_000);
      await expectSshError(c.run(["true"]), (e as SshError).code);
    } finally {
      for (const pid of sessions) {
        try {
          process.kill(pid, "SIGCONT");
          process.kill(pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
      rmSync(big, { force: true });
    }
  });
});

describe("streaming memory", () => {
  it("streams 400 MB from disk through a channel with flat console memory", async () => {
    const c = await connect(target());
    const file = join(work, "stream.bin");
    execFileSync("truncate", ["-s", "400M", file]);
    const expected = createHash("sha256");
    for await (const chunk of createReadStream(file)) expected.update(chunk as Buffer);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    try {
      const r = await c.run(["sha256sum"], {
        stdin: createReadStream(file, { highWaterMark: 256 * 1024 }),
        timeoutMs: 120_000,
      });
      expect(r.stdout.toString().split(" ")[0]).toBe(expected.digest("hex"));
    } finally {
      clearInterval(sampler);
      rmSync(file, { force: true });
    }
    const growthMb = (peak - rss0) / 1024 / 1024;
    const secs = (Date.now() - started) / 1000;
    console.log(`stream 400 MB: ${secs.toFixed(1)} s, console RSS growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(64);
    await c.close();
  });
});

describe("pool", () => {
  it("reuses one connection per host, caps connections in total, and closes idle ones", async () => {
    const events: SshEvent[] = [];
    const pool = new SshPool({ maxConnections: 2, idleTimeoutMs: 300, onEvent: (e) => events.push(e) });
    try {
      const hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"].map((address, i) =>
        target({ name: `h${i}`, address }),
      );
      for (let i = 0; i < 5; i++) await pool.run(hosts[0]!, ["true"]);
      expect(events.filter((e) => e.type === "ready")).toHaveLength(1);
      await Promise.all(hosts.flatMap((h) => [pool.run(h, ["sleep", "0.2"]), pool.run(h, ["true"])]));
      expect(pool.connectionHighWater).toBe(2);
      await new Promise((r) => setTimeout(r, 800));
      expect(pool.size).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("does not hand out a connection that has begun to close (idle timer racing a new command)", async () => {
    const pool = new SshPool({ idleTimeoutMs: 60_000 });
    try {
      const h = target({ name: "h0", address: "127.0.0.1" });
      const first = await pool.acquire(h);
      first.release();
      // What the idle timer does: close() starts an orderly end that takes a round trip or more.
      const closing = first.conn.close();
      const r = await pool.run(h, ["echo", "still here"]);
      expect(r.stdout.toString()).toBe("still here\n");
      await closing;
      expect(first.conn.isClosed).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
