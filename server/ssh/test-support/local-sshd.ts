// Test helper: a throwaway OpenSSH server on 127.0.0.1 and a free port, in its own temp dir,
// with its own host key and an authorized console key. For tests that need sshd settings the
// lab does not use (a low MaxSessions, a forced command) and before the lab is available.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface LocalSshd {
  dir: string;
  port: number;
  user: string;
  privateKey: string;
  publicKey: string;
  fingerprint: string;
  logFile: string;
  /** pid of the listening sshd (its children are the per-connection processes). */
  pid(): number;
  /** Replace the host key and restart sshd (what `lab rekey` does). */
  rekey(): Promise<void>;
  /** Rewrite authorized_keys (e.g. to add a forced-command line) */
  setAuthorizedKeys(lines: string): void;
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function keygen(path: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "keel-test", "-f", path]);
}

function fingerprintOf(pubPath: string): string {
  return execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", pubPath], { encoding: "utf8" }).split(
    " ",
  )[1]!;
}

export async function startLocalSshd(
  opts: { maxSessions?: number; extraConfig?: string; extraAddresses?: string[] } = {},
): Promise<LocalSshd> {
  mkdirSync("/run/sshd", { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "keel-sshd-"));
  const port = await freePort();
  keygen(join(dir, "host_key"));
  keygen(join(dir, "client_key"));
  const publicKey = readFileSync(join(dir, "client_key.pub"), "utf8").trim();
  writeFileSync(join(dir, "authorized_keys"), publicKey + "\n", { mode: 0o600 });
  const logFile = join(dir, "sshd.log");
  writeFileSync(
    join(dir, "sshd_config"),
    [
      // sshd takes the first value of a keyword: extra settings go first to override the defaults
      opts.extraConfig ?? "",
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      ...(opts.extraAddresses ?? []).map((a) => `ListenAddress ${a}`),
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "LogLevel VERBOSE",
      `MaxSessions ${opts.maxSessions ?? 10}`,
      "MaxStartups 100:30:200",
    ].join("\n") + "\n",
  );
  let child: ChildProcess | null = null;
  const start = async () => {
    // As root, the sessions get an empty /root of their own (a private mount namespace), like the
    // lab's hosts: the machine's ~/.bashrc must not run in every command (here it runs
    // pyenv-rehash, which waits up to 60 s on a lock another killed shell left behind).
    const sshdArgv = ["/usr/sbin/sshd", "-D", "-f", join(dir, "sshd_config"), "-E", logFile];
    child =
      process.getuid?.() === 0
        ? spawn(
            "unshare",
            [
              "--mount",
              "--propagation",
              "private",
              "--",
              "sh",
              "-c",
              'mount -t tmpfs -o mode=0700,size=16m tmpfs /root && exec "$@"',
              "sh",
              ...sshdArgv,
            ],
            { stdio: "ignore" },
          )
        : spawn(sshdArgv[0]!, sshdArgv.slice(1), { stdio: "ignore" });
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (
        existsSync(logFile) &&
        readFileSync(logFile, "utf8").includes(`Server listening on 127.0.0.1 port ${port}`)
      )
        return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not start: ${existsSync(logFile) ? readFileSync(logFile, "utf8") : "no log"}`);
  };
  const stopChild = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  await start();
  const sshd: LocalSshd = {
    dir,
    port,
    user: userInfo().username,
    privateKey: readFileSync(join(dir, "client_key"), "utf8"),
    publicKey,
    fingerprint: fingerprintOf(join(dir, "host_key.pub")),
    logFile,
    async rekey() {
      await stopChild();
      rmSync(join(dir, "host_key"));
      rmSync(join(dir, "host_key.pub"));
      keygen(join(dir, "host_key"));
      sshd.fingerprint = fingerprintOf(join(dir, "host_key.pub"));
      writeFileSync(logFile, "");
      await start();
    },
    setAuthorizedKeys(lines: string) {
      writeFileSync(join(dir, "authorized_keys"), lines.endsWith("\n") ? lines : lines + "\n", {
        mode: 0o600,
      });
    },
    log: () => readFileSync(logFile, "utf8"),
    pid: () => (child as ChildProcess | null)?.pid ?? 0,
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}
