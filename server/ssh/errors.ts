// SshError: every failure of the SSH layer, with the host and the step it happened in, so a
// service can turn it into an AppError and a person learns what failed, where, and what to do.

export type SshErrorCode =
  | "INVALID_TARGET"
  | "INVALID_ARGUMENT"
  | "HOST_KEY_UNKNOWN"
  | "HOST_KEY_CHANGED"
  | "AUTH_FAILED"
  | "CONNECT_FAILED"
  | "CONNECT_TIMEOUT"
  | "CONNECTION_LOST"
  | "KEEPALIVE_TIMEOUT"
  | "CHANNEL_OPEN_FAILED"
  | "CHANNEL_OPEN_TIMEOUT"
  | "COMMAND_TIMEOUT"
  | "COMMAND_FAILED"
  | "OUTPUT_TOO_LARGE"
  | "OUTPUT_NOT_UTF8"
  | "SUDO_REFUSED"
  | "AGENT_MISSING_NODE"
  | "AGENT_UPLOAD_FAILED"
  | "AGENT_PROTOCOL"
  | "AGENT_FAILED"
  | "AGENT_OUTDATED"
  | "POOL_CLOSED"
  | "ABORTED";

/** The step of talking to a host in which an error happened. */
export type SshStep =
  | "validate"
  | "connect"
  | "verify-host-key"
  | "authenticate"
  | "open-channel"
  | "exec"
  | "check-agent"
  | "upload-agent"
  | "run-agent"
  | "stream"
  | "install-keys";

export interface SshErrorContext {
  host?: string;
  step?: SshStep;
  cause?: unknown;
  /** Machine-readable extras, e.g. `{ presented, pinned }` for host key errors, `{ exitCode, stderr }`. */
  details?: Record<string, unknown>;
}

export class SshError extends Error {
  override readonly name = "SshError";
  readonly code: SshErrorCode;
  readonly host: string | undefined;
  readonly step: SshStep | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SshErrorCode, message: string, ctx: SshErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.code = code;
    this.host = ctx.host;
    this.step = ctx.step;
    this.details = ctx.details;
  }

  /** True when trying again later may help (network, timeouts, busy sshd); false for trust and input errors. */
  get isTransient(): boolean {
    return TRANSIENT.has(this.code);
  }
}

const TRANSIENT = new Set<SshErrorCode>([
  "CONNECT_FAILED",
  "CONNECT_TIMEOUT",
  "CONNECTION_LOST",
  "KEEPALIVE_TIMEOUT",
  "CHANNEL_OPEN_FAILED",
  "CHANNEL_OPEN_TIMEOUT",
  "COMMAND_TIMEOUT",
]);

export function isSshError(e: unknown): e is SshError {
  return e instanceof SshError;
}
