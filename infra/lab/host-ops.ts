// Operations on one running lab host: new host key (rekey) and filling its disk.
import { readFileSync, renameSync, rmSync } from "node:fs";
import { fingerprintOfBlob, fingerprintOfPublicKeyFile, type ReadyRecord } from "./host";
import { labExec, resolveHost } from "./exec";
import { readJson, type LabState, writeJsonAtomic } from "./inventory";
import { LabError, labPaths } from "./names";
import { nsInode } from "./ns";
import { run, sleep } from "./run";
import { writeInventory } from "./up";

async function servedFingerprint(address: string): Promise<string | null> {
  const scan = await run(["ssh-keyscan", "-t", "ed25519", "-T", "3", address], {
    allowFail: true,
    timeoutMs: 10_000,
  });
  const line = scan.stdout.split("\n").find((l) => l.includes(" ssh-ed25519 "));
  const blob = line?.split(" ")[2];
  return blob ? fingerprintOfBlob(blob) : null;
}

/**
 * Gives the host a new ed25519 host key and reloads its sshd (SIGHUP). The inventory keeps the
 * fingerprint pinned at `up` — exactly what a console sees when a real host is reinstalled —
 * unless updateInventory is set.
 */
export async function labRekey(
  lab: string,
  host: string | number,
  opts: { updateInventory?: boolean } = {},
): Promise<{ fingerprint: string; previous: string; inventoryUpdated: boolean }> {
  const p = labPaths(lab);
  const h = resolveHost(lab, host);
  const ready = readJson<ReadyRecord>(h.readyFile);
  if (!ready) throw new LabError(`lab host ${h.name} is not complete`);
  const previous = fingerprintOfPublicKeyFile(`${h.hostKey}.pub`);
  const tmp = `${h.hostKey}.new`;
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.pub`, { force: true });
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `root@${h.name}`, "-f", tmp], {
    what: `rekeying ${h.name}`,
  });
  renameSync(`${tmp}.pub`, `${h.hostKey}.pub`);
  renameSync(tmp, h.hostKey);
  const fingerprint = fingerprintOfPublicKeyFile(`${h.hostKey}.pub`);
  const pid = Number(readFileSync(h.pidFile, "utf8").trim());
  if (!(pid > 0) || nsInode(`/proc/${pid}/ns/net`) !== nsInode(`/run/netns/${h.netns}`))
    throw new LabError(`sshd of ${h.name} is not running (pid file ${h.pidFile})`);
  process.kill(pid, "SIGHUP");
  const deadline = Date.now() + 60_000; // generous: the machine may be loaded
  while ((await servedFingerprint(ready.address)) !== fingerprint) {
    if (Date.now() > deadline) throw new LabError(`sshd of ${h.name} did not start serving the new host key`);
    await sleep(100);
  }
  if (opts.updateInventory) {
    writeJsonAtomic(h.readyFile, { ...ready, hostKeyFingerprint: fingerprint });
    const state = readJson<LabState>(p.state);
    if (state) writeInventory(p, state);
  }
  return { fingerprint, previous, inventoryUpdated: Boolean(opts.updateInventory) };
}

const FILL = "/var/lib/keel/.lab-fill";

/** Fills the host's /var/lib/keel until writes fail with ENOSPC; returns the bytes left free. */
export async function labFillDisk(
  lab: string,
  host: string | number,
): Promise<{ filledBytes: number; availableBytes: number }> {
  const h = resolveHost(lab, host);
  const avail = async () => {
    const r = await labExec(lab, host, ["df", "-B1", "--output=avail", "/var/lib/keel"]);
    return Number(r.stdout.trim().split("\n").pop());
  };
  const before = await avail();
  // fallocate takes the bulk instantly without writing data into the sparse image...
  let size = before - 1024 * 1024;
  while (size > 0) {
    const r = await labExec(lab, host, ["fallocate", "-l", String(size), `${FILL}-0`]);
    if (r.code === 0) break;
    await labExec(lab, host, ["rm", "-f", `${FILL}-0`]);
    size = Math.floor(size * 0.9);
  }
  // ...then real writes take the rest until the file system says ENOSPC.
  const dd = await labExec(lab, host, ["dd", "if=/dev/zero", `of=${FILL}-1`, "bs=64K", "status=none"], {
    timeoutMs: 300_000,
  });
  if (dd.code === 0 || !/No space left/.test(dd.stderr))
    throw new LabError(`filling the disk of ${h.name} did not reach ENOSPC: ${dd.stderr.trim()}`);
  await labExec(lab, host, ["sync", "-f", "/var/lib/keel"]);
  const after = await avail();
  return { filledBytes: before - after, availableBytes: after };
}

export async function labReleaseDisk(lab: string, host: string | number): Promise<void> {
  const r = await labExec(lab, host, ["rm", "-f", `${FILL}-0`, `${FILL}-1`]);
  if (r.code !== 0) throw new LabError(`releasing the disk of ${host}: ${r.stderr.trim()}`);
  await labExec(lab, host, ["sync", "-f", "/var/lib/keel"]); // btrfs returns the space at commit
}
