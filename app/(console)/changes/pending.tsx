"use client";
// An admin action the policy sent to approvers comes back as APPROVAL_REQUIRED with the change
// request in its details (docs/policy.md). Forms show it as a pending change, not as a failure —
// with the password generated for a new user, which is shown to the requester only now.
import Link from "next/link";
import { TRPCClientError } from "@trpc/client";
import { OkNote } from "@/app/_components/ui";

type Pending = { message: string; number: number; password: string | null };

export function pendingChange(error: unknown): Pending | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data = error.data as
    | { appCode?: string; details?: { changeRequest?: { number: number }; once?: { password?: string } } }
    | undefined;
  if (data?.appCode !== "APPROVAL_REQUIRED" || !data.details?.changeRequest) return null;
  return {
    message: error.message,
    number: data.details.changeRequest.number,
    password: data.details.once?.password ?? null,
  };
}

export function PendingChangeNote({ pending }: { pending: Pending }) {
  return (
    <OkNote>
      {pending.message}{" "}
      <Link className="underline" href="/changes">
        Change request {pending.number}
      </Link>
      {pending.password && (
        <>
          {" "}
          The new user&apos;s password, shown only now:{" "}
          <code data-testid="generated-password">{pending.password}</code>
        </>
      )}
    </OkNote>
  );
}
