// The build form's activation fields (docs/activation.md) → the JSON the upload route takes as
// `activation`, or a message for the form. The console checks it again with the agent's validators.
export function activationFromForm(form: Pick<FormData, "get">): object | string | null {
  const argv = String(form.get("hook-argv") ?? "")
    .split(/\r?\n/)
    .filter((l, i, a) => l !== "" || (i > 0 && i < a.length - 1));
  const seconds = String(form.get("hook-timeout") ?? "").trim();
  const timeoutMs = Math.round(Number(seconds === "" ? "60" : seconds) * 1000);
  if (argv.length && !(Number.isFinite(timeoutMs) && timeoutMs >= 1))
    return "The activation hook's timeout must be a number of seconds.";
  const text = String(form.get("exports") ?? "").trim();
  let exports: unknown;
  if (text) {
    try {
      exports = JSON.parse(text);
    } catch (e) {
      return `Exports must be JSON, e.g. [{"from":"hello.service","dir":"/etc/systemd/system"}] (${(e as Error).message}).`;
    }
  }
  if (!argv.length && exports === undefined) return null;
  const onActivate = argv.length
    ? { argv, timeoutMs, ...(form.get("hook-as-root") === "on" ? { runAs: "root" } : {}) }
    : undefined;
  return { ...(onActivate ? { onActivate } : {}), ...(exports !== undefined ? { exports } : {}) };
}
