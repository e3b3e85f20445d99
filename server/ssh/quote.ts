// The SSH exec request carries ONE string that the remote login shell parses. We never build
// shell syntax from data: every argv element is POSIX single-quoted, so the remote shell sees
// exactly the words we meant — `$(…)`, `;`, newlines, globs and backticks stay literal.
import { SshError } from "./errors";

/** Single-quote one word for a POSIX shell: 'it'\''s'. Empty string becomes ''. */
export function quoteArg(arg: string): string {
  if (arg.includes("\0")) {
    throw new SshError("INVALID_ARGUMENT", "An argument contains a NUL byte, which no command line can carry.", {
      step: "validate",
    });
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

/**
 * Inverse of buildCommand for the strict subset it produces: words separated by single spaces,
 * each entirely single-quoted, with `'\''` for a quote. Anything else returns null. The agent's
 * forced-command mode needs exactly this to read SSH_ORIGINAL_COMMAND without a shell.
 */
export function parseQuotedCommand(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] !== "'") return null;
    let word = "";
    i++;
    for (;;) {
      const end = line.indexOf("'", i);
      if (end < 0) return null;
      word += line.slice(i, end);
      i = end + 1;
      if (line.startsWith("\\''", i)) {
        word += "'";
        i += 3;
        continue;
      }
      break;
    }
    out.push(word);
    if (i === line.length) break;
    if (line[i] !== " ") return null;
    i++;
    if (i === line.length) return null;
  }
  return out.length > 0 ? out : null;
}
