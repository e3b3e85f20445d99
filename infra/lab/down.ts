// `lab down`: removes everything a lab made. It does not trust any single record: hosts are found
// from host directories, network namespaces, namespace files and veth names, and whatever is left
// is swept by name prefix (so a `up` killed at any instant is cleaned up too).
import { existsSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { removeLabFirewall } from "./firewall";
import { destroyHost, detachLoops, hostNamespaceIds } from "./host";
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
function orphanMatch(p: LabPaths): RegExp {
  return new RegExp(
    [
      escapeRe(p.dir + "/"),
      escapeRe(p.runDir + "/"),
      `${escapeRe(p.netnsPrefix)}h[0-9]+( |$)`,
      `${p.vethPrefix}[0-9]+( |$)`,
      ` ${p.bridge}( |$)`,
    ].join("|"),
  );
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
    const indexes = hostIndexes(p, await listNetns(), await listLinks());
    // One scan of /proc for the whole lab: processes in its namespaces and orphans of a crash.
    const ids = indexes.map((i) => hostNamespaceIds(hostPaths(p, i)));
    await killAndWait(
      findLabProcesses({
        netIds: ids.flatMap((x) => (x.netId !== null ? [x.netId] : [])),
        mntIds: ids.flatMap((x) => (x.mntId !== null ? [x.mntId] : [])),
        match: orphanMatch(p),
      }),
    );
    await mapLimit(indexes, 8, (i) =>
      destroyHost(p, hostPaths(p, i), { processesKilled: true, linksSweptLater: true }),
    );

    // Sweep by name whatever a crash left outside the places looked at above.
    await killAndWait(findLabProcesses({ match: orphanMatch(p) }));
    const nsRe = new RegExp(`^${escapeRe(p.netnsPrefix)}h[0-9]+$`);
    const linkRe = new RegExp(`^(${p.vethPrefix}[0-9]+|${p.bridge})$`);
    const batch = [
      ...(await listNetns()).filter((n) => nsRe.test(n)).map((n) => `netns del ${n}`),
      ...(await listLinks()).filter((n) => linkRe.test(n)).map((n) => `link del ${n}`),
    ];
    // One `ip` for all: veths may still be vanishing with their namespaces, so errors are expected.
    if (batch.length)
      await run(["ip", "-force", "-batch", "-"], { input: batch.join("\n") + "\n", allowFail: true });
    for (const t of [...mountTargets()]
      .filter((t) => t.startsWith(p.runDir + "/"))
      .sort()
      .reverse())
      await run(["umount", "-l", t], { allowFail: true });
    if (mountTargets().has(p.runDir)) await run(["umount", "-l", p.runDir], { allowFail: true });
    await detachLoops(p.dir + "/");
    await removeLabFirewall(p);
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
