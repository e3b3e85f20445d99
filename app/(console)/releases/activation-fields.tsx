// The build form's activation hook and exports (docs/activation.md); read by activation-form.ts.
export function ActivationFields() {
  return (
    <fieldset className="flex w-full flex-wrap items-end gap-3" aria-label="Activation">
      <div>
        <label htmlFor="build-hook-argv" className="label">
          Activation hook: the program, then one argument per line (no shell; runs after current moves, on
          rollback the old version&apos;s)
        </label>
        <textarea
          id="build-hook-argv"
          name="hook-argv"
          rows={2}
          className="input font-mono"
          placeholder={"bin/restart"}
        />
        <label className="mt-1 flex items-center gap-1 text-xs">
          <input type="checkbox" name="hook-as-root" />
          Run as root on the hosts (otherwise as the unprivileged user keel-check; rollouts and approvals will
          show it)
        </label>
      </div>
      <div>
        <label htmlFor="build-hook-timeout" className="label">
          Hook timeout (s)
        </label>
        <input id="build-hook-timeout" name="hook-timeout" className="input w-20" placeholder="60" />
      </div>
      <div className="grow">
        <label htmlFor="build-exports" className="label">
          Exports (JSON; each into a directory the host allows)
        </label>
        <input
          id="build-exports"
          name="exports"
          className="input w-full font-mono"
          placeholder='[{"from":"hello.service","dir":"/etc/systemd/system"}]'
        />
      </div>
    </fieldset>
  );
}
