// Runs one command with the store discipline shared by the CLI and `serve`: create the store
// directories, take the lock (mutating commands), complete or undo what the journal holds, empty
// `.staging`, then do the work. Read-only commands recover too when the lock is free.
import { mkdirSync } from "node:fs";
import type { Command, CommandArgs, CommandResults } from "../protocol";
import { AgentError } from "./errors";
import type { AgentContext } from "./context";
import type { StreamInput } from "./input";
import { acquireLock, type StoreLock } from "./store/lock";
import { recover } from "./journal/recover";
import { facts } from "./commands/facts";
import { version } from "./commands/version";
import { receive } from "./commands/receive";
import { activate, rollback } from "./commands/activate";
import { remove, gc } from "./commands/remove";
import { verify } from "./commands/verify";
import { health } from "./commands/health";
import { hook } from "./commands/hook";
import { keygen } from "./commands/keygen";
import { build } from "./commands/build";
import { sectionContext } from "./store/sections";

const STORE_FREE: readonly Command[] = ["version", "keygen"];
const READ_ONLY: readonly Command[] = ["facts", "verify", "health", "hook"];

export function ensureStoreDirs(ctx: AgentContext): void {
  const { layout } = ctx;
  mkdirSync(layout.apps, { recursive: true, mode: 0o755 });
  mkdirSync(layout.staging, { recursive: true, mode: 0o700 });
  mkdirSync(layout.journal, { recursive: true, mode: 0o700 });
}

export async function runCommand<C extends Command>(
  command: C,
  args: CommandArgs[C],
  ctx: AgentContext,
  input?: StreamInput,
): Promise<CommandResults[C]> {
  if (STORE_FREE.includes(command)) return (await runStoreFree(command, args)) as CommandResults[C];
  ensureStoreDirs(ctx);
  let lock: StoreLock | null = null;
  try {
    if (READ_ONLY.includes(command)) {
      lock = await acquireLock(ctx.layout.root, "lock").catch((e: unknown) => {
        if (e instanceof AgentError && e.code === "BUSY") return null;
        throw e;
      });
    } else {
      lock = await acquireLock(ctx.layout.root, "lock");
    }
    if (lock) await recover(ctx);
    return (await runInStore(command, args, ctx, input)) as CommandResults[C];
  } finally {
    await lock?.release();
  }
}

async function runStoreFree(command: Command, args: unknown): Promise<unknown> {
  if (command === "version") return version();
  return keygen(args as CommandArgs["keygen"]);
}

async function runInStore(
  command: Command,
  args: unknown,
  ctx0: AgentContext,
  input?: StreamInput,
): Promise<unknown> {
  // `kind: "runtime"` acts in runtimes/ (receive and gc choose their sections themselves).
  const ctx = sectionContext(ctx0, command, args);
  switch (command) {
    case "facts":
      return facts(ctx);
    case "receive":
      if (!input)
        throw new AgentError(
          "BAD_REQUEST",
          "receive",
          "receive needs a stream (--stream FILE or DATA frames)",
        );
      return receive(ctx, args as CommandArgs["receive"], input);
    case "activate":
      return activate(ctx, args as CommandArgs["activate"]);
    case "rollback":
      return rollback(ctx, args as CommandArgs["rollback"]);
    case "remove":
      return remove(ctx, args as CommandArgs["remove"]);
    case "gc":
      return gc(ctx, args as CommandArgs["gc"]);
    case "verify":
      return verify(ctx, args as CommandArgs["verify"]);
    case "health":
      return health(ctx, args as CommandArgs["health"]);
    case "hook":
      return hook(ctx, args as CommandArgs["hook"]);
    case "build":
      return build(ctx, args as CommandArgs["build"]);
    default:
      throw new AgentError("BAD_REQUEST", "dispatch", `unknown command ${command}`);
  }
}
