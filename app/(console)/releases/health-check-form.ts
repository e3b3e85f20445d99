// The build form's health check fields → the JSON the upload route takes as `healthCheck`
// (the console checks it again and answers what is wrong), or a message for the form.
export type HealthKind = "none" | "exec" | "http";

/**
 * The health check the build form declares: a command given one argument per line (it runs
 * without a shell, so nothing is split or quoted), or a URL and the status it must answer; the
 * console checks it again and says what is wrong.
 */
export function healthCheckFromForm(form: Pick<FormData, "get">, kind: HealthKind): object | string | null {
  if (kind === "none") return null;
  const seconds = String(form.get("health-timeout") ?? "").trim();
  const timeoutMs = seconds === "" ? undefined : Math.round(Number(seconds) * 1000);
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 1))
    return "The health check's timeout must be a number of seconds.";
  if (kind === "exec") {
    const argv = String(form.get("health-argv") ?? "").split(/\r?\n/);
    while (argv.length && argv[argv.length - 1] === "") argv.pop();
    while (argv.length && argv[0] === "") argv.shift();
    if (argv.length === 0)
      return "Give the health check's command: the program on the first line, then one argument per line.";
    // Unprivileged (the user keel-check) unless the box "run as root" is ticked.
    return {
      type: "exec",
      argv,
      timeoutMs,
      ...(form.get("health-as-root") === "on" ? { runAs: "root" } : {}),
    };
  }
  const url = String(form.get("health-url") ?? "").trim();
  if (!url) return "Give the URL the health check fetches on the host.";
  const status = String(form.get("health-status") ?? "").trim();
  return { type: "http", url, expectStatus: status === "" ? undefined : Number(status), timeoutMs };
}
