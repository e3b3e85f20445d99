"use client";
// The build form's health check: none, a command (argv, optionally as root) or an HTTP request,
// with a timeout; read back by health-check-form.ts.
import type { HealthKind } from "./health-check-form";

export function HealthCheckFields({
  health,
  setHealth,
}: {
  health: HealthKind;
  setHealth: (kind: HealthKind) => void;
}) {
  return (
    <fieldset className="flex w-full flex-wrap items-end gap-3" aria-label="Health check">
      <div>
        <label htmlFor="build-health" className="label">
          Health check (run on each host after activation; failing it reverts the host)
        </label>
        <select
          id="build-health"
          className="input"
          value={health}
          onChange={(e) => setHealth(e.target.value as HealthKind)}
        >
          <option value="none">none</option>
          <option value="exec">command</option>
          <option value="http">HTTP</option>
        </select>
      </div>
      {health === "exec" && (
        <div>
          <label htmlFor="build-health-argv" className="label">
            Command: the program, then one argument per line (no shell)
          </label>
          <textarea
            id="build-health-argv"
            name="health-argv"
            rows={3}
            className="input font-mono"
            placeholder={"/usr/bin/curl\n-fsS\nhttp://127.0.0.1:8080/health"}
            required
          />
          <label className="mt-1 flex items-center gap-1 text-xs">
            <input type="checkbox" name="health-as-root" />
            Run as root on the hosts (otherwise as the unprivileged user keel-check; rollouts and approvals
            will show it)
          </label>
        </div>
      )}
      {health === "http" && (
        <>
          <div>
            <label htmlFor="build-health-url" className="label">
              URL (fetched on the host)
            </label>
            <input
              id="build-health-url"
              name="health-url"
              type="url"
              className="input"
              placeholder="http://127.0.0.1:8080/health"
              required
            />
          </div>
          <div>
            <label htmlFor="build-health-status" className="label">
              Expected status
            </label>
            <input
              id="build-health-status"
              name="health-status"
              type="number"
              min={100}
              max={599}
              defaultValue={200}
              className="input w-24"
            />
          </div>
        </>
      )}
      {health !== "none" && (
        <div>
          <label htmlFor="build-health-timeout" className="label">
            Timeout (seconds)
          </label>
          <input
            id="build-health-timeout"
            name="health-timeout"
            type="number"
            min={0.001}
            max={3600}
            step="any"
            defaultValue={30}
            className="input w-24"
          />
        </div>
      )}
    </fieldset>
  );
}
