"use client";
// Beside Start: start at the hosts' next maintenance window or at a given time, so that nobody has to
// press Start at night. A rollout worker starts it then as the person who scheduled it, with the
// Start button's checks; a refused scheduled start is shown here as an error.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { errorMessage, useTRPC } from "@/app/_trpc/react";
import { ErrorNote, Time } from "@/app/_components/ui";

type Props = {
  id: string;
  state: string;
  canControl: boolean;
  schedule: { at: Date; by: string | null } | null;
  scheduleError: string | null;
  onChange: () => void;
};

export function ScheduleControls({ id, state, canControl, schedule, scheduleError, onChange }: Props) {
  const trpc = useTRPC();
  const [at, setAt] = useState("");
  const opts = { onSuccess: onChange };
  const plan = useMutation(trpc.rollouts.schedule.mutationOptions(opts));
  const unplan = useMutation(trpc.rollouts.unschedule.mutationOptions(opts));
  const failed = [plan, unplan].find((m) => m.error);
  const schedulable = canControl && ["approved", "awaiting_approval"].includes(state);
  if (!schedulable && !schedule && !scheduleError) return null;
  return (
    <section aria-label="Scheduled start" className="flex flex-col gap-2 text-sm">
      {failed && <ErrorNote>{errorMessage(failed.error)}</ErrorNote>}
      {scheduleError && (
        <ErrorNote>
          <span data-testid="schedule-error">The scheduled start was refused: {scheduleError}</span>
        </ErrorNote>
      )}
      {schedule && (
        <p data-testid="scheduled-start">
          Starts at <Time value={schedule.at} /> (scheduled by {schedule.by ?? "someone"}).{" "}
          {canControl && (
            <button className="btn" onClick={() => unplan.mutate({ rolloutId: id })}>
              Cancel schedule
            </button>
          )}
        </p>
      )}
      {schedulable && (
        <div className="flex flex-wrap items-center gap-2">
          <button className="btn" onClick={() => plan.mutate({ rolloutId: id, nextWindow: true })}>
            Start at next window
          </button>
          <label className="flex items-center gap-1">
            Start at…
            {/* The browser's local time; sent as an instant. */}
            <input
              className="input"
              type="datetime-local"
              aria-label="Start at"
              value={at}
              onChange={(e) => setAt(e.target.value)}
            />
          </label>
          <button
            className="btn"
            disabled={!at}
            onClick={() => plan.mutate({ rolloutId: id, at: new Date(at) })}
          >
            Schedule
          </button>
        </div>
      )}
    </section>
  );
}
