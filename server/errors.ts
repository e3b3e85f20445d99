// Application errors. Services throw `new AppError(code, { message })`; the tRPC layer maps the
// code to a tRPC code (and so an HTTP status) and the error formatter adds zod issues and the
// AppError code to the response. Add a domain code here with the tRPC code it maps to.
import {
  TRPCError,
  type TRPC_ERROR_CODE_KEY,
  type TRPCDefaultErrorShape as DefaultErrorShape,
} from "@trpc/server";
import { ZodError, z } from "zod";

export const APP_ERROR_CODES = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  INTERNAL: "INTERNAL_SERVER_ERROR",
  // Domain codes (later features add theirs):
  USER_DISABLED: "FORBIDDEN",
  HOST_UNREACHABLE: "BAD_GATEWAY",
  HOST_KEY_MISMATCH: "CONFLICT",
  POLICY_DENIED: "FORBIDDEN",
  /** Not done yet: the change waits as a change request for approvers (details.changeRequest). */
  APPROVAL_REQUIRED: "FORBIDDEN",
  AUDIT_CHAIN_BROKEN: "CONFLICT",
  REQUIREMENT_UNMET: "PRECONDITION_FAILED",
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly details?: unknown;
  constructor(code: AppErrorCode, opts: { message: string; cause?: unknown; details?: unknown }) {
    super(opts.message, { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.details = opts.details;
  }
}

export function toTRPCError(e: AppError): TRPCError {
  return new TRPCError({ code: APP_ERROR_CODES[e.code], message: e.message, cause: e });
}

export type KeelErrorData = DefaultErrorShape["data"] & {
  /** The AppError code, when a service raised one. */
  appCode: AppErrorCode | null;
  /** Input validation problems, one per field. */
  zodIssues: { path: (string | number)[]; message: string; code: string }[] | null;
  details: unknown;
};

/** tRPC errorFormatter: never leaks internal messages; adds zod issues and the AppError code. */
export function formatError({
  shape,
  error,
}: {
  shape: DefaultErrorShape;
  error: TRPCError;
}): DefaultErrorShape & { data: KeelErrorData } {
  const cause = error.cause;
  const zod = cause instanceof ZodError ? cause : null;
  const app = cause instanceof AppError ? cause : null;
  const internal = error.code === "INTERNAL_SERVER_ERROR" && !app;
  const { stack: _stack, ...data } = shape.data;
  return {
    ...shape,
    message: internal ? "internal error" : zod ? z.prettifyError(zod) : shape.message,
    data: {
      ...data,
      appCode: app?.code ?? null,
      zodIssues: zod
        ? zod.issues.map((i) => ({
            path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
            message: i.message,
            code: i.code,
          }))
        : null,
      details: app?.details ?? null,
    },
  };
}
