// server/ssh: the console's SSH transport (docs/ssh.md). No database access: callers pass targets
// and get results, events and SshErrors back.
export { SshError, isSshError, type SshErrorCode, type SshStep } from "./errors";
export { fingerprintOfKey, isFingerprint, sameFingerprint } from "./fingerprint";
export { buildCommand, quoteArg } from "./quote";
export { DEFAULT_AGENT_PATH, DEFAULT_LIMITS, keepaliveBudgetMs, resolveLimits, validateTarget, type SshLimits, type SshTarget } from "./target";
export { connect, lossyText, SshConnection, type ConnectOptions, type ExecOptions, type ExecResult, type SshEvent } from "./connection";
export { SshPool, type Lease, type PoolOptions } from "./pool";
export { mapHosts, type HostOutcome, type MapHostsOptions } from "./map-hosts";
export { connectAccepting, fetchHostKeyFingerprint, type HostKeyInfo } from "./enroll";
export {
  AgentCommandError,
  AgentSession,
  agentArgv,
  openCheckedSession,
  receiveReleaseIn,
  ensureAgent,
  loadAgentBundle,
  receiveRelease,
  runAgent,
  uploadFile,
  type AgentBundle,
  type AgentHello,
  type AgentRequestOptions,
  type EnsureAgentResult,
  type RunAgentOptions,
} from "./agent";
export { installTrustedKeys, TRUSTED_KEYS_DIR, type InstallTrustedKeysResult } from "./trusted-keys";
export { DEFAULT_GATE_PATH, FORCED_OPTIONS, forcedCommandLine, installForcedGate } from "./forced";
export { Semaphore } from "./semaphore";
