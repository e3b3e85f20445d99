// The SSH exec request carries ONE string that the remote login shell parses. We never build
// shell syntax from data: every argv element is POSIX single-quoted, so the remote shell sees
// exactly the words we meant — `$(…)`, `;`, newlines, globs and backticks stay literal.
import { SshError } from "./errors";

/** Single-quote one word for a POSIX shell: 'it'\''s'. Empty string becomes ''. */
export function quoteArg(arg: string): string {
  if (arg.includes("\0")) {
    throw new SshError(
      "INVALID_ARGUMENT",
      "An argument contains a NUL byte, which no command line can carry.",
      {
        step: "validate",
      },
    );
  }
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** Build the exec request string from an argument vector. */
export function buildCommand(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new SshError("INVALID_ARGUMENT", "Cannot run an empty command.", { step: "validate" });
  }
  return argv.map(quoteArg).join(" ");
}
