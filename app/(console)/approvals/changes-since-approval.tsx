// On an approval card: the rollout was planned again after someone approved it, so those approvals
// no longer count; this says who approved which plan when, and what the new plan does differently.
import { Time } from "@/app/_components/ui";

export type ChangesSinceApproval = {
  approvedAt: Date | string;
  approvedBy: string[];
  changes: string[];
} | null;

export function ChangesSinceApproval({ value }: { value: ChangesSinceApproval }) {
  if (!value) return null;
  return (
    <section
      aria-label="Changed since the last approval"
      className="rounded-md border border-amber-500/50 px-3 py-2"
    >
      <p className="font-medium">
        Changed since {value.approvedBy.join(", ") || "someone"} approved it (
        <Time value={value.approvedAt} />
        ); that approval no longer counts:
      </p>
      {value.changes.length ? (
        <ul className="ml-5 list-disc">
          {value.changes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      ) : (
        <p>The plan does the same on every host; only what the policy keys on differs.</p>
      )}
    </section>
  );
}
