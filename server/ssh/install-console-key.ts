// Bootstrap for a host that does not trust the console's key yet, like `ssh-copy-id`: one SSH
// login with the admin's one-time password or private key, only after the host presented the
// fingerprint the admin accepted (checked before any credential is offered), appends the console's
// public key to the login user's ~/.ssh/authorized_keys (once; mode 600 in a 700 directory) and
// logs out. The secret lives only in this call's memory: never stored, logged or audited
// (docs/decisions/0025-bootstrap-enrollment.md).
import { Client, utils } from "ssh2";
import { SshError } from "./errors";
import { fingerprintOfKey, sameFingerprint } from "./fingerprint";
import { printable, resolveLimits, validateTarget } from "./target";

export type BootstrapCredential = { password: string } | { privateKey: string; passphrase?: string };

export type BootstrapTarget = { name: string; address: string; port: number; user: string };

/** Reads the public key line from stdin, so nothing but fixed text is in the command line. */
const INSTALL_SCRIPT = [
  "umask 077",
  "k=$(head -c 16384)",
  'd="$HOME/.ssh"; f="$d/authorized_keys"',
  'mkdir -p "$d" && touch "$f" || exit 3',
  'if ! grep -qxF "$k" "$f"; then if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi; printf "%s\\n" "$k" >> "$f" || exit 4; echo added; else echo present; fi',
  'chmod 700 "$d"; chmod 600 "$f"',
].join("\n");

export async function installConsoleKey(
  target: BootstrapTarget,
  acceptedFingerprint: string,
  credential: BootstrapCredential,
  consolePublicKey: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ added: boolean }> {
  validateTarget({ ...target, privateKey: "-", pinnedFingerprint: null });
  const line = consolePublicKey.trim();
  if (!/^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+( [^\n]*)?$/.test(line))
    throw new SshError("INVALID_ARGUMENT", "The console's public key is not one OpenSSH key line.", {
      host: target.name,
      step: "install-keys",
    });
  if ("privateKey" in credential) {
    const parsed = utils.parseKey(credential.privateKey, credential.passphrase);
    if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey())
      throw new SshError(
        "INVALID_ARGUMENT",
        `The private key given for ${target.name} could not be read${parsed instanceof Error ? `: ${printable(parsed.message)}` : ""} (an OpenSSH or PEM private key, with its passphrase if it has one). Nothing was sent.`,
        {
          host: target.name,
          step: "authenticate",
        },
      );
  } else if (!credential.password)
    throw new SshError("INVALID_ARGUMENT", `No password was given for ${target.name}.`, {
      host: target.name,
      step: "authenticate",
    });
  const limits = resolveLimits({});
  const host = target.name;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyError: SshError | null = null;
    let authTried = false;
    let settled = false;
    const finish = (e: SshError | null, v?: { added: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners();
      client.on("error", () => {});
      client.end();
      setTimeout(() => client.destroy(), 500).unref();
      if (e) reject(e);
      else resolve(v!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new SshError(
            "COMMAND_TIMEOUT",
            `${host} did not finish installing the console's key within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s.`,
            { host, step: "install-keys" },
          ),
        ),
      opts.timeoutMs ?? 30_000,
    );
    client.on("error", (err: Error & { level?: string }) => {
      if (hostKeyError) return finish(hostKeyError);
      const refused =
        err.level === "client-authentication" || (authTried && /authentication/i.test(err.message));
      finish(
        refused
          ? new SshError(
              "AUTH_FAILED",
              `${host} refused the ${"password" in credential ? "password" : "private key"} for ${target.user}. Nothing was installed; check the credential (and that sshd allows ${"password" in credential ? "PasswordAuthentication" : "this key"} for ${target.user}).`,
              { host, step: "authenticate" },
            )
          : new SshError(
              "CONNECT_FAILED",
              `Could not connect to ${host} (${target.address}:${target.port}): ${printable(err.message)}.`,
              { host, step: "connect" },
            ),
      );
    });
    client.on("close", () =>
      finish(
        hostKeyError ??
          new SshError(
            "CONNECT_FAILED",
            `${host} closed the connection before the console's key was installed.`,
            { host, step: "connect" },
          ),
      ),
    );
    client.once("ready", () => {
      client.exec(`sh -c '${INSTALL_SCRIPT.replace(/'/g, `'\\''`)}'`, (err, ch) => {
        if (err)
          return finish(
            new SshError("CHANNEL_OPEN_FAILED", `${host}: ${printable(err.message)}`, {
              host,
              step: "install-keys",
            }),
          );
        let out = "";
        let errText = "";
        ch.on("data", (d: Buffer) => (out += d.toString()));
        ch.stderr.on("data", (d: Buffer) => (errText = (errText + d.toString()).slice(-500)));
        ch.on("close", (code: number | null) => {
          if (code === 0 && /added|present/.test(out)) return finish(null, { added: out.includes("added") });
          finish(
            new SshError(
              "COMMAND_FAILED",
              `Installing the console's key in ~${target.user}/.ssh/authorized_keys on ${host} failed (exit ${code}): ${printable(errText.trim()) || "no message"}.`,
              {
                host,
                step: "install-keys",
                details: { exitCode: code },
              },
            ),
          );
        });
        ch.end(`${line}\n`);
      });
    });
    const methods = "password" in credential ? ["password", "keyboard-interactive"] : ["publickey"];
    try {
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        readyTimeout: limits.connectTimeoutMs,
        hostVerifier: (key: Buffer) => {
          const presented = fingerprintOfKey(key);
          if (sameFingerprint(presented, acceptedFingerprint)) return true;
          hostKeyError = new SshError(
            "HOST_KEY_UNKNOWN",
            `${host} presented host key ${presented}, not the accepted ${acceptedFingerprint}. No credential was sent; fetch the fingerprint again and compare it with the host.`,
            {
              host,
              step: "verify-host-key",
              details: { presented, accepted: acceptedFingerprint },
            },
          );
          return false;
        },
        authHandler: (left, _partial, next) => {
          const m = methods.shift();
          if (!m || hostKeyError) return next(false as never);
          authTried = true;
          if (m === "password" && "password" in credential)
            return next({ type: "password", username: target.user, password: credential.password });
          // A password login where sshd asks through PAM: the same password, for every prompt.
          if (m === "keyboard-interactive")
            return next({
              type: "keyboard-interactive",
              username: target.user,
              prompt: (
                _n: string,
                _i: string,
                _l: string,
                prompts: unknown[],
                finishK: (answers: string[]) => void,
              ) => finishK(prompts.map(() => ("password" in credential ? credential.password : ""))),
            } as never);
          if ("privateKey" in credential)
            return next({
              type: "publickey",
              username: target.user,
              key: credential.privateKey,
              passphrase: credential.passphrase,
            } as never);
          return next(false as never);
        },
      });
    } catch (e) {
      finish(
        new SshError(
          "AUTH_FAILED",
          `The private key for ${host} could not be used: ${printable((e as Error).message)} (is it an OpenSSH or PEM private key, with its passphrase?).`,
          { host, step: "authenticate" },
        ),
      );
    }
  });
}
