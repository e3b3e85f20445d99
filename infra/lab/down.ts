// `lab down`: removes everything a lab made. It does not trust any single record: hosts are found
// from host directories, network namespaces, namespace files and veth names, and whatever is left
// is swept by name prefix (so a `up` killed at any instant is cleaned up too).
import { existsSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { destroyHost, detachLoops } from "./host";
import { withLock } from "./lock";
import { LAB_RUN_ROOT, LabError, type LabPaths, hostPaths, labPaths } from "./names";
import { escapeRe, findLabProcesses, killAndWait, listLinks, listNetns, mountTargets } from "./ns";
import { mapLimit, run, sleep } from "./run";
import { GLOBAL_LOCK, releaseMountPoints, requireRoot } from "./up";

function hostIndexes(p: LabPaths, netns: string[], links: string[]): number[] {
  const found = new Set<number>();
  const byName = new RegExp(`^${escapeRe(p.lab)}-h0*([1-9][0-9]*)(?:\\.(?:mnt|uts))?$`);
  for (const d of existsSync(p.hostsDir) ? readdirSync(p.hostsDir) : []) {
    const m = byName.exec(d);
    if (m?.[1]) found.add(Number(m[1]));
  }
  for (const f of existsSync(p.runDir) ? readdirSync(p.runDir) : []) {
    const m = byName.exec(f);
    if (m?.[1]) found.add(Number(m[1]));
  }
  const nsRe = new RegExp(`^${escapeRe(p.netnsPrefix)}h0*([1-9][0-9]*)$`);
  for (const n of netns) {
    const m = nsRe.exec(n);
    if (m?.[1]) found.add(Number(m[1]));
  }
  const vethRe = new RegExp(`^${p.vethPrefix}([1-9][0-9]*)$`);
  for (const l of links) {
    const m = vethRe.exec(l);
    if (m?.[1]) found.add(Number(m[1]));
  }
  return [...found].filter((i) => i <= 9999).sort((a, b) => a - b);
}

/** Orphans of a crashed `up` (mkfs, losetup, ip, nsenter, sshd listeners) found by their arguments. */
function orphanPids(p: LabPaths): number[] {
  const match = new RegExp(
    [
      escapeRe(p.dir + "/"),
      escapeRe(p.runDir + "/"),
      `${escapeRe(p.netnsPrefix)}h[0-9]+( |$)`,
      `${p.vethPrefix}[0-9]+( |$)`,
      ` ${p.bridge}( |$)`,
    ].join("|"),
  );
  return findLabProcesses({ match });
}

async function removeSudoUser(p: LabPaths): Promise<void> {
  rmSync(p.sudoersFile, { force: true });
  for (let attempt = 0; attempt < 10; attempt++) {
    const id = await run(["id", "-u", p.sudoUser], { allowFail: true });
    if (id.code !== 0) break;
    const del = await run(["userdel", p.sudoUser], { allowFail: true });
    if (del.code === 0) break;
    // 10: cannot lock /etc/passwd (someone else is editing it); 8: user still logged in
    if (del.code === 8) await killAndWait(findLabProcesses({ uid: Number(id.stdout.trim()) }));
    await sleep(200 * (attempt + 1));
    if (attempt === 9) throw new LabError(`cannot remove user ${p.sudoUser}: ${del.stderr.trim()}`);
  }
  rmSync(`/run/sudo/ts/${p.sudoUser}`, { force: true });
  rmSync(`/var/lib/sudo/lectured/${p.sudoUser}`, { force: true });
}

export async function labDown(lab: string, opts: { log?: (line: string) => void } = {}): Promise<void> {
  requireRoot();
  const p = labPaths(lab);
  const log = opts.log ?? (() => {});
  const started = Date.now();
  await withLock(p.lockFile, 30 * 60_000, async () => {
    await killAndWait(orphanPids(p));
    const indexes = hostIndexes(p, await listNetns(), await listLinks());
    await mapLimit(indexes, 8, (i) => destroyHost(p, hostPaths(p, i)));

    // Sweep by name whatever a crash left outside the places looked at above.
    await killAndWait(orphanPids(p));
    const nsRe = new RegExp(`^${escapeRe(p.netnsPrefix)}h[0-9]+$`);
    for (const ns of (await listNetns()).filter((n) => nsRe.test(n))) await run(["ip", "netns", "del", ns], { allowFail: true });
    const linkRe = new RegExp(`^(${p.vethPrefix}[0-9]+|${p.bridge})$`);
    for (const l of (await listLinks()).filter((n) => linkRe.test(n))) await run(["ip", "link", "del", l], { allowFail: true });
    for (const t of [...mountTargets()].filter((t) => t.startsWith(p.runDir + "/")).sort().reverse())
      await run(["umount", "-l", t], { allowFail: true });
    if (mountTargets().has(p.runDir)) await run(["umount", "-l", p.runDir], { allowFail: true });
    await detachLoops(p.dir + "/");
    await removeSudoUser(p);
    rmSync(p.dir, { recursive: true, force: true });
    if (existsSync(p.runDir)) rmSync(p.runDir, { recursive: true, force: true });
  });
  await withLock(GLOBAL_LOCK, 120_000, async () => releaseMountPoints());
  for (const d of [`${LAB_RUN_ROOT}/locks`, LAB_RUN_ROOT]) {
    try {
      rmdirSync(d);
    } catch {
      /* another lab is using it */
    }
  }
  log(`lab ${lab} removed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
