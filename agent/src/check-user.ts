// The unprivileged system user that commands a signed manifest declares (health checks) run as,
// unless the manifest says `runAs: "root"`. The agent creates it when it is missing: a system
// account with its own group, no home directory, no login shell, no password. Several agents may
// race to create it (lab hosts share one /etc/passwd; two stores on one machine). useradd's own
// locking did not keep three concurrent runs on Debian 12 from each adding the user with its own
// uid (the last write won; the health test shows it), so agents take a flock(1) on /etc/.pwd.lock
// around useradd; the losers then see "exists" (exit 9) and look again.
import { existsSync } from "node:fs";
import { run } from "./store/fs-util";

export const CHECK_USER = "keel-check";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const ENV = { PATH, LC_ALL: "C" } as unknown as NodeJS.ProcessEnv;

export type CheckUser = { name: string; uid: number; gid: number };

async function lookup(name: string): Promise<CheckUser | null> {
  const r = await run(["getent", "passwd", name], { env: ENV }).catch(() => null);
  if (!r || r.code !== 0) return null;
  const f = r.stdout.trim().split(":");
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  // Never "unprivileged" as root or as a group that is root's.
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0 || gid === 0) {
    throw new Error(
      `the user ${name} exists with uid ${f[2]} and gid ${f[3]}; it must not be root: remove it (userdel ${name}) and the agent makes it again`,
    );
  }
  return { name, uid, gid };
}

const nologin = () => ["/usr/sbin/nologin", "/sbin/nologin"].find((p) => existsSync(p)) ?? "/bin/false";
const which = (prog: string) =>
  PATH.split(":")
    .map((d) => `${d}/${prog}`)
    .find((p) => existsSync(p));

/** The argv that creates the user on this host: shadow's useradd (Debian, RHEL, …) or BusyBox adduser (Alpine). */
function createArgv(name: string): string[] | null {
  const comment = "keel-agent, commands of release manifests"; // GECOS: no colons
  if (which("useradd"))
    return [
      "useradd",
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      nologin(),
      "--comment",
      comment,
      name,
    ];
  if (which("adduser"))
    return ["adduser", "-S", "-D", "-H", "-h", "/nonexistent", "-s", nologin(), "-g", comment, name];
  return null;
}

/** Looks the user up, creating it when missing. Throws with what to do when it cannot. */
export async function ensureCheckUser(name = CHECK_USER): Promise<CheckUser> {
  for (let attempt = 0; ; attempt++) {
    const found = await lookup(name);
    if (found) return found;
    const argv = createArgv(name);
    if (!argv)
      throw new Error(
        `the user ${name} does not exist and this host has neither useradd nor adduser: create a system user ${name} (no login shell, no home)`,
      );
    const r = await run(which("flock") ? ["flock", "-w", "30", "/etc/.pwd.lock", ...argv] : argv, {
      env: ENV,
    });
    if (r.code === 0 || r.code === 9) continue; // made, or made by someone else meanwhile
    if (r.code === 10 && attempt < 20) {
      await new Promise((res) => setTimeout(res, 50 * (attempt + 1)));
      continue;
    }
    throw new Error(
      `could not create the user ${name} (${argv[0]} exit ${r.code}: ${r.stderr.trim().split("\n").pop()}); create it by hand: ${argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`,
    );
  }
}
