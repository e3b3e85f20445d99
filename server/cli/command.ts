// What a `keel` command is. Commands live in ./commands/<noun>.ts and are listed in ./commands/index.ts.
import type { KeelClient } from "./client";

export type CliIo = {
  out(line: string): void;
  env: NodeJS.ProcessEnv;
  /** A client for the logged-in console (throws a CliError when not logged in). */
  client(): KeelClient;
  /** For answers that do not come through the client (release uploads): printed with --json. */
  answer?(path: string, data: unknown): void;
};

export type Command = {
  name: string;
  summary: string;
  /** Usage lines shown by `keel help` and on bad arguments. */
  usage: string[];
  /** The command handles `--json` itself (otherwise `keel` prints the console's answers). */
  ownJson?: boolean;
  run(args: string[], io: CliIo): Promise<void>;
};
