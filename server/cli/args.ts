// Minimal flag parsing for commands: `--name value`, `--name=value`, `--flag`.
import { parseArgs } from "node:util";
import { CliError } from "./errors";

export function parseFlags<const T extends Record<string, { type: "string" | "boolean" }>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
