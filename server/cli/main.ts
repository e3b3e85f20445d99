// `keel`: the console's command line. Talks to the same tRPC API as the pages, over HTTP with
// an API token (`keel login`). Every error prints one line and exits non-zero.
import { createKeelClient, describeError } from "./client";
import type { CliIo, Command } from "./command";
import { commands } from "./commands/index";
import { loadConfig } from "./config";
import { CliError } from "./errors";

function help(): string {
  const lines = ["usage: keel <command> [arguments]", "", "commands:"];
  for (const c of commands)
    lines.push(`  ${c.usage[0]!.padEnd(44)} ${c.summary}`, ...c.usage.slice(1).map((u) => `  ${u}`));
  return lines.join("\n");
}

function commandHelp(c: Command): string {
  return [`keel ${c.name}: ${c.summary}`, "", "usage:", ...c.usage.map((u) => `  ${u}`), "", JSON_NOTE].join(
    "\n",
  );
}

const JSON_NOTE = "--json on any command prints the console's answers as JSON instead of text.";
const isHelp = (a: string) => a === "--help" || a === "-h";

export async function runCli(argv: string[], io: Omit<CliIo, "client">): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || isHelp(name)) {
    const c = name === "help" && args[0] ? commands.find((x) => x.name === args[0]) : undefined;
    io.out(c ? commandHelp(c) : `${help()}\n\n${JSON_NOTE}`);
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new CliError(`unknown command "${name}"; run \`keel help\``);
    if (args.some(isHelp) || args[0] === "help") {
      io.out(commandHelp(command));
      return 0;
    }
    // --json: unless the command prints its own JSON, its text goes away and the answers of
    // the console (every query and mutation it made) are printed instead.
    const json = args.includes("--json") && !command.ownJson;
    const answers: { path: string; data: unknown }[] = [];
    const onAnswer = json ? (path: string, data: unknown) => void answers.push({ path, data }) : undefined;
    await command.run(json ? args.filter((a) => a !== "--json") : args, {
      ...io,
      out: json ? () => {} : io.out,
      answer: onAnswer,
      client: () => createKeelClient({ ...loadConfig(io.env), onAnswer }),
    });
    if (json) io.out(JSON.stringify(answers.length === 1 ? answers[0]!.data : answers, null, 2));
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
