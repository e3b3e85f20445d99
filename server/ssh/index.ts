// server/ssh: the console's SSH transport (docs/ssh.md). No database access: callers pass targets
// and get results, events and SshErrors back.
export { SshError, isSshError, type SshErrorCode, type SshStep } from "./errors";
export { fingerprintOfKey, isFingerprint, sameFingerprint } from "./fingerprint";
export { buildCommand, quoteArg } from "./quote";
export {
  DEFAULT_AGENT_PATH,
  DEFAULT_LIMITS,
  keepaliveBudgetMs,
  resolveLimits,
  validateTarget,
  type SshLimits,
  type SshTarget,
} from "./target";
export { connect, type ConnectOptions } from "./connect";
export { SshConnection, type SshEvent } from "./connection";
export { lossyText, type ExecOptions, type ExecResult } from "./exec";
export { SshPool, type Lease, type PoolOptions } from "./pool";
export { mapHosts, type HostOutcome, type MapHostsOptions } from "./map-hosts";
export { connectAccepting, fetchHostKeyFingerprint, type HostKeyInfo } from "./enroll";
export { AgentCommandError } from "./agent-envelope";
export { agentArgv } from "./privileged";
export {
  ensureAgent,
  loadAgentBundle,
  uploadFile,
  type AgentBundle,
  type EnsureAgentResult,
} from "./agent-install";
export { AgentSession, receiveReleaseIn, type AgentHello, type AgentRequestOptions } from "./agent-session";
export { receiveRelease, runAgent, type RunAgentOptions } from "./agent-run";
export { openCheckedSession } from "./checked-session";
export { installTrustedKeys, TRUSTED_KEYS_DIR, type InstallTrustedKeysResult } from "./trusted-keys";
export { DEFAULT_GATE_PATH, FORCED_OPTIONS, forcedCommandLine, installForcedGate } from "./forced";
export { Semaphore } from "./semaphore";
