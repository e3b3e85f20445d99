// Says, where a rollout is planned, looked at and approved, that the release runs commands as
// root on the hosts ("health check runs as root on 40 hosts"). Its signed manifest asked for it
// (runAs "root"); every other command a manifest declares runs as the unprivileged user keel-check.
// Shows nothing when no command runs as root.

export type RootCommands = { commands: string[]; hosts: number } | null | undefined;

export function RootCommandsNotice({ rootCommands }: { rootCommands: RootCommands }) {
  if (!rootCommands || rootCommands.hosts === 0) return null;
  const what = rootCommands.commands.join(" and ");
  return (
    <p
      role="alert"
      aria-label="Runs as root"
      className="rounded border border-danger px-2 py-1 text-sm font-medium text-danger"
    >
      {what.charAt(0).toUpperCase() + what.slice(1)} runs as root on {rootCommands.hosts} host
      {rootCommands.hosts === 1 ? "" : "s"}
      <span className="font-normal">
        {" "}
        — the release&apos;s signed manifest asks for it; without that, it would run as the unprivileged user
        keel-check.
      </span>
    </p>
  );
}
