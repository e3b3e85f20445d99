// The lab fleet, for real: network namespaces, btrfs loop disks, sshd per host, faults, rekey,
// and `down` leaving the machine as it was — also after `up` is killed half-way.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  labDown,
  labExec,
  labFault,
  labFillDisk,
  labReleaseDisk,
  labRekey,
  labUp,
  labTag,
  readInventory,
  type LabInventory,
} from "./api";

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

function fingerprint(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** The fingerprint sshd at address:22 actually presents (ssh-keyscan | ssh-keygen -lf, as an admin would check). */
function servedFingerprint(address: string): string {
  const line = sh("ssh-keyscan", ["-t", "ed25519", "-T", "5", address]).trim();
  const out = execFileSync("ssh-keygen", ["-lf", "-"], { input: line + "\n", encoding: "utf8" });
  return out.split(" ")[1] ?? "";
}

interface SshResult {
  hostKey: string;
  stdout: string;
}

/** Logs in with ssh2, pinning `pinned` before authentication; runs one command. */
function sshRun(opts: {
  host: string;
  user: string;
  keyPath: string;
  pinned: string;
  command: string;
  timeoutMs?: number;
}): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let seen = "";
    c.on("ready", () => {
      c.exec(opts.command, (err, stream) => {
        if (err) return reject(err);
        let out = "";
        stream.on("data", (d: Buffer) => (out += d.toString()));
        stream.stderr.on("data", () => {});
        stream.on("close", () => {
          c.end();
          resolve({ hostKey: seen, stdout: out });
        });
      });
    });
    c.on("error", (e) => reject(Object.assign(e, { hostKey: seen })));
    c.connect({
      host: opts.host,
      port: 22,
      username: opts.user,
      privateKey: readFileSync(opts.keyPath),
      readyTimeout: opts.timeoutMs ?? 60_000, // generous: the machine is shared and often loaded
      hostVerifier: (key: Buffer) => {
        seen = fingerprint(key);
        return seen === opts.pinned;
      },
    });
  });
}

/** Everything a lab could leave on the machine, looked up with the system's own tools. */
function leftovers(lab: string): string[] {
  const tag = labTag(lab);
  const found: string[] = [];
  for (const ns of sh("ip", ["netns", "list"]).split("\n"))
    if (ns.startsWith(`keel-${lab}-`)) found.push(`netns ${ns}`);
  for (const l of sh("ip", ["-o", "link", "show"]).split("\n")) {
    const name = /^\d+: ([^:@ ]+)/.exec(l)?.[1];
    if (name && (name === `kb${tag}` || name.startsWith(`kv${tag}`))) found.push(`link ${name}`);
  }
  for (const l of readFileSync("/proc/self/mountinfo", "utf8").split("\n"))
    if (l.includes(`keel-lab/${lab}`)) found.push(`mount ${l}`);
  for (const l of sh("losetup", ["-a"]).split("\n"))
    if (l.includes(`/keel-lab/${lab}/`)) found.push(`loop ${l}`);
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue;
    }
    if (cmd.includes(`/keel-lab/${lab}/`) || cmd.includes(`keel-${lab}-h`))
      found.push(`process ${pid} ${cmd}`);
  }
  for (const cmd of ["iptables", "ip6tables"])
    for (const rule of sh(cmd, ["-w", "10", "-S"]).split("\n"))
      if (rule.includes(`KEEL-LAB-${tag}`) || rule.includes(`kb${tag}`)) found.push(`${cmd} ${rule}`);
  for (const f of ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid"])
    if (existsSync(f) && readFileSync(f, "utf8").includes(`keellab-${lab}:`))
      found.push(`user keellab-${lab} in ${f}`);
  for (const f of [`/etc/sudoers.d/keel-lab-${lab}`, `/var/lib/keel-lab/${lab}`, `/run/keel-lab/${lab}`])
    if (existsSync(f)) found.push(`file ${f}`);
  return found;
}

/** An IPv4 address of this machine outside every lab (where a host must not get to). */
function outsideAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === "lo" || name.startsWith("kb")) continue;
    const a = (addrs ?? []).find((x) => x.family === "IPv4" && !x.internal);
    if (a) return a.address;
  }
  throw new Error("no outside IPv4 address on this machine");
}

const tcpProbe = (address: string, port: number) => [
  "node",
  "-e",
  `const s=require("net").connect({host:${JSON.stringify(address)},port:${port},timeout:3000});` +
    `s.on("connect",()=>{console.log("connected");process.exit(0)});` +
    `s.on("timeout",()=>{console.log("timeout");process.exit(1)});` +
    `s.on("error",e=>{console.log(e.code);process.exit(1)});`,
];

// Generous timeouts: SSH logins take seconds when the shared machine is loaded.
describe("lab fleet", { timeout: 300_000 }, () => {
  const lab = `lt${randomBytes(3).toString("hex")}`;
  let inv: LabInventory;
  let key: string;

  beforeAll(async () => {
    inv = await labUp({ lab, count: 3 });
    key = inv.consoleKey.privateKeyPath as string;
  });
  afterAll(async () => {
    await labDown(lab);
  });

  it("gives every host its own address, btrfs /var/lib/keel and a distinct pinned host key", async () => {
    expect(inv.hosts.map((h) => h.name)).toEqual([`${lab}-h001`, `${lab}-h002`, `${lab}-h003`]);
    expect(new Set(inv.hosts.map((h) => h.address)).size).toBe(3);
    expect(new Set(inv.hosts.map((h) => h.hostKeyFingerprint)).size).toBe(3);
    expect(readInventory(lab)).toEqual(inv);
    for (const h of inv.hosts) {
      expect(h.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(servedFingerprint(h.address)).toBe(h.hostKeyFingerprint);
      const fs = await labExec(lab, h.name, ["findmnt", "-n", "-o", "FSTYPE", "/var/lib/keel"]);
      expect(fs.stdout.trim()).toBe("btrfs");
    }
    const [h1, h2] = inv.hosts as [LabInventory["hosts"][0], LabInventory["hosts"][0]];
    const marker = `written-on-${h1.name}`;
    expect(
      (
        await labExec(lab, h1.name, [
          "sh",
          "-c",
          `echo ${marker} > /var/lib/keel/marker && echo ok > /etc/keel/trusted.d/x.pub`,
        ])
      ).code,
    ).toBe(0);
    expect((await labExec(lab, h1.name, ["cat", "/var/lib/keel/marker"])).stdout.trim()).toBe(marker);
    expect((await labExec(lab, h2.name, ["cat", "/var/lib/keel/marker"])).code).not.toBe(0);
    expect((await labExec(lab, h2.name, ["ls", "/etc/keel/trusted.d"])).stdout.trim()).toBe("");
    expect(existsSync("/var/lib/keel/marker")).toBe(false); // not on the machine itself either
  });

  it("lets the console in over SSH as root and as the sudo user, with the key pinned", async () => {
    const logins = await Promise.all(
      inv.hosts.map((h) =>
        sshRun({
          host: h.address,
          user: "root",
          keyPath: key,
          pinned: h.hostKeyFingerprint,
          command: "hostname; findmnt -n -o TARGET /var/lib/keel",
        }),
      ),
    );
    expect(logins.map((r) => r.stdout.split("\n").slice(0, 2))).toEqual(
      inv.hosts.map((h) => [h.name, "/var/lib/keel"]),
    );
    const h = inv.hosts[2] as LabInventory["hosts"][0];
    const s = await sshRun({
      host: h.address,
      user: h.sudoUser,
      keyPath: key,
      pinned: h.hostKeyFingerprint,
      command: "id -u; sudo -n id -u",
    });
    expect(s.stdout.trim().split("\n")).toEqual([expect.not.stringMatching(/^0$/), "0"]);
    // No password logins: a key the host does not know is refused.
    const other = `/tmp/${lab}-otherkey`;
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    try {
      await expect(
        sshRun({
          host: h.address,
          user: "root",
          keyPath: other,
          pinned: h.hostKeyFingerprint,
          command: "true",
        }),
      ).rejects.toThrow(/authentication/i);
    } finally {
      execFileSync("rm", ["-f", other, `${other}.pub`]);
    }
  });

  it("keeps hosts inside the lab: the bridge answers, the machine's outside address does not", async () => {
    let server: Server | undefined;
    try {
      server = createServer((s) => s.end());
      await new Promise<void>((r) => server!.listen(0, "0.0.0.0", r));
      const port = (server.address() as { port: number }).port;
      const h = inv.hosts[0] as LabInventory["hosts"][0];
      const viaBridge = await labExec(lab, h.name, tcpProbe(inv.bridgeAddress, port));
      expect(viaBridge.stdout.trim()).toBe("connected");
      const outside = await labExec(lab, h.name, tcpProbe(outsideAddress(), port));
      expect(outside.stdout.trim()).toBe("ENETUNREACH");
      const internet = await labExec(lab, h.name, tcpProbe("1.1.1.1", 443));
      expect(internet.stdout.trim()).toBe("ENETUNREACH");
      expect((await labExec(lab, h.name, ["ip", "-4", "route"])).stdout).not.toMatch(/default/);
      // Even root on the host, routing the machine's address through the bridge itself, gets nowhere.
      expect(
        (await labExec(lab, h.name, ["ip", "route", "add", `${outsideAddress()}/32`, "dev", "eth0"])).code,
      ).toBe(0);
      const sneaky = await labExec(lab, h.name, tcpProbe(outsideAddress(), port));
      expect(sneaky.stdout.trim()).toBe("timeout");
      await labExec(lab, h.name, ["ip", "route", "del", `${outsideAddress()}/32`, "dev", "eth0"]);
    } finally {
      server?.close();
    }
  });

  it("drops the link silently on `fault drop` and brings it back on `restore`", async () => {
    const h = inv.hosts[1] as LabInventory["hosts"][0];
    await labFault(lab, h.name, { kind: "drop" });
    const t0 = Date.now();
    await expect(
      sshRun({
        host: h.address,
        user: "root",
        keyPath: key,
        pinned: h.hostKeyFingerprint,
        command: "true",
        timeoutMs: 3000,
      }),
    ).rejects.toThrow(/timed out/i);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900); // a timeout, not a refusal
    await labFault(lab, h.name, { kind: "restore" });
    const r = await sshRun({
      host: h.address,
      user: "root",
      keyPath: key,
      pinned: h.hostKeyFingerprint,
      command: "hostname",
    });
    expect(r.stdout.trim()).toBe(h.name);
  });

  it("delays SSH by the given milliseconds on `fault delay`", async () => {
    const h = inv.hosts[1] as LabInventory["hosts"][0];
    const timed = async () => {
      const t0 = Date.now();
      await sshRun({
        host: h.address,
        user: "root",
        keyPath: key,
        pinned: h.hostKeyFingerprint,
        command: "true",
      });
      return Date.now() - t0;
    };
    await labFault(lab, h.name, { kind: "delay", ms: 400 });
    try {
      // An SSH login takes several round trips, each at least 400 ms later now.
      expect(await timed()).toBeGreaterThanOrEqual(1600);
    } finally {
      await labFault(lab, h.name, { kind: "restore" });
    }
  });

  it("loses packets on `fault loss` (some TCP handshakes fail, not all)", async () => {
    const h = inv.hosts[1] as LabInventory["hosts"][0];
    const handshakes = (n: number, timeoutMs: number) =>
      Promise.all(
        Array.from(
          { length: n },
          () =>
            new Promise<boolean>((resolve) => {
              const s = connect({ host: h.address, port: 22 });
              const t = setTimeout(() => (s.destroy(), resolve(false)), timeoutMs);
              s.once("connect", () => (clearTimeout(t), s.destroy(), resolve(true)));
              s.once("error", () => (clearTimeout(t), resolve(false)));
            }),
        ),
      );
    await labFault(lab, h.name, { kind: "loss", percent: 50 });
    try {
      // Each handshake needs the SYN in and the SYN-ACK out: about 1 in 4 gets through.
      const lossy = (await handshakes(60, 800)).filter(Boolean).length; // 800 ms: below the 1 s SYN retransmit
      expect(lossy).toBeGreaterThan(0);
      expect(lossy).toBeLessThan(45);
    } finally {
      await labFault(lab, h.name, { kind: "restore" });
    }
    expect((await handshakes(20, 5000)).every(Boolean)).toBe(true);
  });

  it("serves a new host key after `rekey` while the inventory keeps the pinned one", async () => {
    const h = inv.hosts[0] as LabInventory["hosts"][0];
    const r = await labRekey(lab, h.name);
    expect(r.previous).toBe(h.hostKeyFingerprint);
    expect(r.fingerprint).not.toBe(h.hostKeyFingerprint);
    expect(servedFingerprint(h.address)).toBe(r.fingerprint);
    expect(readInventory(lab).hosts[0]?.hostKeyFingerprint).toBe(h.hostKeyFingerprint);
    const err = await sshRun({
      host: h.address,
      user: "root",
      keyPath: key,
      pinned: h.hostKeyFingerprint,
      command: "true",
    }).catch((e: Error & { hostKey?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { hostKey?: string }).hostKey).toBe(r.fingerprint);
    // Re-pinning in the inventory is explicit.
    const again = await labRekey(lab, h.name, { updateInventory: true });
    expect(readInventory(lab).hosts[0]?.hostKeyFingerprint).toBe(again.fingerprint);
    expect(servedFingerprint(h.address)).toBe(again.fingerprint);
  });

  it("fills a host's disk until writes fail with ENOSPC, and frees it again", async () => {
    const h = inv.hosts[2] as LabInventory["hosts"][0];
    const filled = await labFillDisk(lab, h.name);
    expect(filled.filledBytes).toBeGreaterThan(1024 ** 3);
    const write = await labExec(lab, h.name, [
      "dd",
      "if=/dev/zero",
      "of=/var/lib/keel/more",
      "bs=1M",
      "count=8",
    ]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/No space left/);
    await labReleaseDisk(lab, h.name);
    expect(
      (await labExec(lab, h.name, ["dd", "if=/dev/zero", "of=/var/lib/keel/more", "bs=1M", "count=8"])).code,
    ).toBe(0);
    // Other hosts never noticed.
    expect(
      (
        await labExec(lab, inv.hosts[0]!.name, [
          "dd",
          "if=/dev/zero",
          "of=/var/lib/keel/more",
          "bs=1M",
          "count=8",
        ])
      ).code,
    ).toBe(0);
  });

  it("changes nothing on a second `up` with the same count", async () => {
    const before = readInventory(lab);
    // A host made again would get a new network namespace (and a new key and an empty disk).
    const netnsIds = () =>
      before.hosts.map((h) => sh("stat", ["-L", "-c", "%i", `/run/netns/${h.netns}`]).trim());
    const idsBefore = netnsIds();
    const again = await labUp({ lab, count: 3 });
    expect(again.hosts).toEqual(before.hosts);
    expect(netnsIds()).toEqual(idsBefore);
    expect((await labExec(lab, inv.hosts[0]!.name, ["cat", "/var/lib/keel/marker"])).code).toBe(0);
  });

  it("leaves nothing behind after `down`", async () => {
    expect(leftovers(lab).length).toBeGreaterThan(5); // the check sees a running lab
    await labDown(lab);
    expect(leftovers(lab)).toEqual([]);
  });
});

/** Starts `lab up` as its own process group and kill -9s the whole group once `ready` hosts are up. */
async function crashUp(lab: string, args: string[], ready: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ["node_modules/tsx/dist/cli.mjs", "infra/lab/main.ts", "up", ...args, "--lab", lab],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  const hostsDir = `/var/lib/keel-lab/${lab}/hosts`;
  const count = () =>
    existsSync(hostsDir)
      ? readdirSync(hostsDir).filter((d) => existsSync(`${hostsDir}/${d}/ready.json`)).length
      : 0;
  try {
    const deadline = Date.now() + 90_000;
    while (count() < ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(count()).toBeGreaterThanOrEqual(ready);
  } finally {
    process.kill(-child.pid!, "SIGKILL");
  }
  await new Promise((r) => setTimeout(r, 200));
}

describe("lab after a crash of `up`", { timeout: 300_000 }, () => {
  it("`down` removes a lab whose `up` was killed half-way (kill -9 of the whole process group)", async () => {
    const lab = `lc${randomBytes(3).toString("hex")}`;
    try {
      await crashUp(lab, ["8", "--concurrency", "2"], 3);
      const before = leftovers(lab);
      expect(before.some((l) => l.startsWith("process") && l.includes("sshd"))).toBe(true);
      expect(before.some((l) => l.startsWith("netns"))).toBe(true);
      expect(readdirSync(`/var/lib/keel-lab/${lab}/hosts`).length).toBeGreaterThan(3); // some were half made
    } finally {
      await labDown(lab);
    }
    expect(leftovers(lab)).toEqual([]);
  });

  it("a second `up` finishes a lab whose `up` was killed half-way", async () => {
    const lab = `lr${randomBytes(3).toString("hex")}`;
    try {
      await crashUp(lab, ["4", "--ext4", "--concurrency", "1"], 1);
      const inv = await labUp({ lab, count: 4, ext4: true });
      expect(inv.hosts.map((h) => h.index)).toEqual([1, 2, 3, 4]);
      for (const h of inv.hosts) {
        expect(servedFingerprint(h.address)).toBe(h.hostKeyFingerprint);
        expect(
          (await labExec(lab, h.name, ["findmnt", "-n", "-o", "FSTYPE", "/var/lib/keel"])).stdout.trim(),
        ).toBe("ext4");
      }
    } finally {
      await labDown(lab);
    }
    expect(leftovers(lab)).toEqual([]);
  });
});
