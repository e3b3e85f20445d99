// Running commands as root on a host: directly for a root login, through `sudo -n` for another
// (docs/ssh.md), with sudo's refusal told apart from the command's own failure.
import { DEFAULT_AGENT_PATH, printable, type SshTarget } from "./target";
import { SshError, type SshStep } from "./errors";
import { commandFailed, lossyText, type ExecResult } from "./exec";
import { type SshConnection } from "./connection";

export function agentPathOf(t: SshTarget): string {
  return t.agentPath ?? DEFAULT_AGENT_PATH;
}

/** Prefix for commands that need root: nothing for root, `sudo -n --` for another login. */
export function privileged(t: SshTarget, argv: readonly string[]): string[] {
  return t.sudo ? ["sudo", "-n", "--", ...argv] : [...argv];
}

/** The argv that starts the agent on the host. */
export function agentArgv(t: SshTarget, ...args: string[]): string[] {
  return privileged(t, [t.nodePath ?? "node", agentPathOf(t), ...args]);
}

export async function runPrivileged(
  conn: SshConnection,
  argv: string[],
  step: SshStep,
  opts: { stdin?: Buffer; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const t = conn.target;
  const r = await conn.exec(privileged(t, argv), {
    step,
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: 1024 * 1024,
  });
  if (r.exitCode !== 0) throw sudoOrFailure(t, privileged(t, argv), r, step);
  return r;
}

export function sudoOrFailure(t: SshTarget, argv: string[], r: ExecResult, step: SshStep): SshError {
  const err = lossyText(r.stderr);
  if (t.sudo && /^sudo: /m.test(err)) {
    return new SshError(
      "SUDO_REFUSED",
      `sudo -n refused on ${t.name} for user ${t.user} (step ${step}): ${printable(err.trim(), 200)}. Allow ${t.user} to run node without a password (see docs/ssh.md) or log in as root.`,
      { host: t.name, step, details: { stderr: printable(err, 300) } },
    );
  }
  return commandFailed(t, argv, r, step);
}
