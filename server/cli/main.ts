// `keel`: the console's command line. Talks to the same tRPC API as the pages, over HTTP with
// an API token (`keel login`). Every error prints one line and exits non-zero.
import { createKeelClient, describeError } from "./client";
import type { CliIo } from "./command";
import { commands } from "./commands/index";
import { loadConfig } from "./config";
import { CliError } from "./errors";

function help(): string {
  const lines = ["usage: keel <command> [arguments]", "", "commands:"];
  for (const c of commands) lines.push(`  ${c.usage[0]!.padEnd(44)} ${c.summary}`, ...c.usage.slice(1).map((u) => `  ${u}`));
  return lines.join("\n");
}

export async function runCli(argv: string[], io: Omit<CliIo, "client">): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.out(help());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new CliError(`unknown command "${name}"; run \`keel help\``);
    await command.run(args, { ...io, client: () => createKeelClient(loadConfig(io.env)) });
    return 0;
  } catch (e) {
    console.error(`keel: ${describeError(e)}`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

export async function cliMain(): Promise<never> {
  const code = await runCli(process.argv.slice(2), { out: (l) => console.log(l), env: process.env });
  process.exit(code);
}

// `npm run keel` runs this file directly; `npx keel` goes through bin.mjs, which calls cliMain().
if (/[\\/]server[\\/]cli[\\/]main\.ts$/.test(process.argv[1] ?? "")) void cliMain();
