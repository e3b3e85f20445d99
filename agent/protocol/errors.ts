// Error codes the agent reports (CLI: JSON on stdout + non-zero exit; serve: an error response).
// `retryable` separates transient errors (try again later) from fatal ones (stop, report).

export const AGENT_ERROR_CODES = {
  BAD_REQUEST: "the request is malformed (unknown command, missing or extra fields)",
  PROTOCOL_MISMATCH: "the request's protocolVersion is not the agent's",
  INVALID_NAME: "an app name or version does not match the allowed pattern",
  BUSY: "another operation holds the store lock",
  NOT_FOUND: "the app or version is not installed",
  BAD_MANIFEST: "the manifest is malformed or inconsistent",
  UNTRUSTED_KEY: "the manifest is signed by a key the host does not trust",
  BAD_SIGNATURE: "the manifest's signature does not verify",
  DIGEST_MISMATCH: "the stream's bytes do not match the manifest's digests or length",
  BAD_STREAM: "the stream is not a well-formed stream of the declared format",
  SPECIAL_FILES:
    "the release holds setuid/setgid files, capabilities, privileged extended attributes or device nodes it did not declare (or the request did not allow)",
  STREAM_ESCAPE:
    "the stream reaches outside its tree: a path through a symlink, or a clone, link or rename source outside the subvolume or its parent",
  TREE_MISMATCH:
    "the received tree differs from the signed tree digest (checked before the version is visible)",
  MANIFEST_TOO_OLD:
    "a manifestVersion 1 release whose tree holds extended attributes its digest cannot cover: rebuild it",
  PARENT_MISSING: "an incremental release's parent version is not installed",
  PARENT_MISMATCH: "the installed parent differs from the one the release was built against",
  RECEIVE_FAILED: "btrfs receive (or the plain-directory unpacker) failed",
  CHECK_FAILED: "the received tree does not match the manifest",
  DISK_FULL: "no space left in the store",
  WRONG_BACKEND: "the stream format does not fit this store's backend",
  ALREADY_INSTALLED: "this version is installed with a different manifest",
  REPLAY_REFUSED: "activating an older version than current needs --rollback",
  IN_USE: "the version is current or previous and cannot be removed",
  REQUIREMENT_UNMET:
    "an app's required runtime is missing or outside its range, or a runtime change would break an installed app's range",
  NO_PREVIOUS: "there is no previous version to roll back to",
  VERIFY_FAILED: "an installed tree no longer matches its manifest",
  NOT_SUPPORTED: "the store or host cannot do this (e.g. build needs btrfs)",
  IO_ERROR: "a file system operation failed",
  INTERNAL: "an unexpected error inside the agent",
  EXPORT_REFUSED:
    "a declared export is outside the host's allow-list (/etc/keel/agent.json), leaves the version's tree, or clashes with a file Keel does not own",
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export const RETRYABLE_CODES: readonly AgentErrorCode[] = ["BUSY", "IO_ERROR"];

/** The error body of a failed command. `step` names where it failed (e.g. "verify", "receive"). */
export interface AgentErrorBody {
  code: AgentErrorCode;
  step: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

export function isAgentErrorCode(v: unknown): v is AgentErrorCode {
  return typeof v === "string" && Object.prototype.hasOwnProperty.call(AGENT_ERROR_CODES, v);
}
