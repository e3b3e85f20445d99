// AgentError: every failure carries a code (agent/protocol/errors.ts), the step where it happened and
// a sentence a person understands. toErrorBody turns anything thrown into that shape.
import { ProtocolInputError, RETRYABLE_CODES, type AgentErrorBody, type AgentErrorCode } from "../protocol";
import { FramingError } from "../protocol/framing";

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    readonly step: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AgentError";
  }
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" &&
    e !== null &&
    "code" in e &&
    typeof (e as { code: unknown }).code === "string"
    ? (e as { code: string }).code
    : undefined;
}

export function isDiskFull(e: unknown): boolean {
  const c = errnoCode(e);
  return c === "ENOSPC" || c === "EDQUOT";
}

export function toErrorBody(e: unknown, step: string): AgentErrorBody {
  if (e instanceof AgentError) {
    const body: AgentErrorBody = {
      code: e.code,
      step: e.step,
      message: e.message,
      retryable: RETRYABLE_CODES.includes(e.code),
    };
    if (e.details) body.details = e.details;
    return body;
  }
  if (e instanceof ProtocolInputError) {
    const code: AgentErrorCode =
      /app name|version/.test(e.message) && !/manifest/.test(e.path)
        ? "INVALID_NAME"
        : e.path.startsWith("manifest")
          ? "BAD_MANIFEST"
          : "BAD_REQUEST";
    return { code, step, message: e.message, retryable: false };
  }
  if (e instanceof FramingError) return { code: "BAD_REQUEST", step, message: e.message, retryable: false };
  if (isDiskFull(e)) {
    return {
      code: "DISK_FULL",
      step,
      message: `no space left in the store while ${step}: ${(e as Error).message}`,
      retryable: false,
    };
  }
  if (errnoCode(e))
    return { code: "IO_ERROR", step, message: `${step}: ${(e as Error).message}`, retryable: true };
  return {
    code: "INTERNAL",
    step,
    message: `${step}: ${e instanceof Error ? e.message : String(e)}`,
    retryable: false,
  };
}

/** Runs fn, wrapping anything that is not already an AgentError with the step it happened in. */
export async function atStep<T>(step: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AgentError) throw e;
    const b = toErrorBody(e, step);
    throw new AgentError(b.code, step, b.message);
  }
}
