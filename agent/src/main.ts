// keel-agent entry point: parses the command line into a command's args (validated by
// agent/protocol like a serve request), runs it, prints JSON. Exit codes: 0 ok, 1 failed,
// 2 bad usage, 75 busy (EX_TEMPFAIL).
import { readFileSync } from "node:fs";
import { COMMANDS, ProtocolInputError, SECTION_COMMANDS, validateArgs, type Command } from "../protocol";
import { createContext } from "./context";
import { runCommand } from "./dispatch";
import { AgentError, toErrorBody } from "./errors";
import { fileInput } from "./input";
import { resident, startResident } from "./resident";
import { serve } from "./serve";
import { MAX_RESIDENT_SECONDS } from "../protocol";
import { DEFAULT_STORE, DEFAULT_TRUSTED } from "./store/layout";

const USAGE = `usage: keel-agent <command> [options]
  facts                                   host, store and installed versions
  version                                 agent version, protocol version, bundle SHA-256
  receive --manifest FILE [--stream FILE|-] [--wire raw|keel-z1|keel-delta-1|keel-delta-1z|keel-delta-2|keel-delta-c [--delta-base VERSION]] [--allow-special]
  activate APP VERSION [--rollback]       switch current to VERSION
                                          (activate, rollback, remove, gc APP, verify, health: --kind runtime
                                          acts on runtimes/ instead of apps/)
  rollback APP                            make previous current
  remove APP VERSION                      delete a version (not current or previous)
  gc [APP] --keep N                       keep the N newest versions per app
  verify APP [VERSION]                    re-check installed trees against their manifests
  health APP [VERSION]                    run the health check of VERSION's signed manifest (default: current)
  hook APP [VERSION]                      run the onActivate of VERSION's signed manifest (default: current)
  keygen --out DIR [--name NAME]          new ed25519 release signing key
  build --from DIR --app A --version V --key KEY --out DIR [--parent P] [--kind K] [--format F]
        [--requires JSON]                 e.g. '[{"runtime":"node","versions":"^20"}]' (kind app)
        [--health-check JSON]             e.g. '{"type":"exec","argv":["/usr/bin/test","-f","/srv/ok"],"timeoutMs":30000}'
                                          (runs as the user keel-check; add "runAs":"root" for root)
        [--on-activate JSON] [--export JSON]  e.g. '{"argv":["bin/restart"],"timeoutMs":30000}',
                                          '[{"from":"hello.service","dir":"/etc/systemd/system"}]'
  serve [--resident SECONDS]              framed request loop on stdin/stdout (agent/protocol/framing.ts);
                                          --resident leaves a resident agent for SECONDS idle when it ends
  resident --idle SECONDS                 the resident agent itself (started by serve --resident; docs/agent.md)
common options: --store DIR (default ${DEFAULT_STORE}), --trusted DIR (default ${DEFAULT_TRUSTED})`;

const VALUE_FLAGS = new Set([
  "store",
  "trusted",
  "manifest",
  "stream",
  "wire",
  "delta-base",
  "keep",
  "out",
  "name",
  "from",
  "app",
  "version",
  "parent",
  "key",
  "kind",
  "format",
  "health-check",
  "on-activate",
  "export",
  "resident",
  "idle",
  "requires",
]);
const BOOL_FLAGS = new Set(["rollback", "allow-special", "help"]);

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgv(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (BOOL_FLAGS.has(name)) {
        if (eq > 0) throw new ProtocolInputError(`--${name}`, "takes no value");
        flags.set(name, true);
      } else if (VALUE_FLAGS.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new ProtocolInputError(`--${name}`, "needs a value");
        flags.set(name, v);
      } else throw new ProtocolInputError(`--${name}`, "unknown option");
    } else positional.push(a);
  }
  return { positional, flags };
}

function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function argsFor(command: Command, p: Parsed): unknown {
  const pos = p.positional;
  const need = (n: number, max: number) => {
    if (pos.length < n || pos.length > max)
      throw new ProtocolInputError(
        command,
        `expects ${n === max ? n : `${n}–${max}`} argument(s), got ${pos.length}`,
      );
  };
  switch (command) {
    case "facts":
    case "version":
      need(0, 0);
      return {};
    case "receive": {
      need(0, 0);
      const file = flag(p, "manifest");
      if (!file) throw new ProtocolInputError("--manifest", "is required");
      let manifest: unknown;
      try {
        manifest = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new AgentError(
          "BAD_MANIFEST",
          "read-manifest",
          `cannot read manifest ${file}: ${(e as Error).message}`,
        );
      }
      return {
        manifest,
        wireEncoding: flag(p, "wire"),
        deltaBase: flag(p, "delta-base"),
        allowSpecial: p.flags.has("allow-special") ? true : undefined,
      };
    }
    case "activate":
      need(2, 2);
      return { app: pos[0], version: pos[1], rollback: p.flags.has("rollback") ? true : undefined };
    case "rollback":
      need(1, 1);
      return { app: pos[0] };
    case "remove":
      need(2, 2);
      return { app: pos[0], version: pos[1] };
    case "gc": {
      need(0, 1);
      const keep = flag(p, "keep");
      if (keep === undefined || !/^\d{1,6}$/.test(keep))
        throw new ProtocolInputError("--keep", "is required and must be a number");
      return { app: pos[0], keep: Number(keep) };
    }
    case "verify":
    case "hook":
    case "health":
      need(1, 2);
      return { app: pos[0], version: pos[1] };
    case "keygen":
      need(0, 0);
      return { out: flag(p, "out"), name: flag(p, "name") ?? "release" };
    case "build": {
      need(0, 0);
      const health = flag(p, "health-check");
      let healthCheck: unknown;
      if (health !== undefined) {
        try {
          healthCheck = JSON.parse(health);
        } catch (e) {
          throw new ProtocolInputError("--health-check", `must be JSON (${(e as Error).message})`);
        }
      }
      return {
        from: flag(p, "from"),
        app: flag(p, "app"),
        version: flag(p, "version"),
        parent: flag(p, "parent"),
        key: flag(p, "key"),
        out: flag(p, "out"),
        kind: flag(p, "kind"),
        format: flag(p, "format"),
        healthCheck,
        activation: activationFlags(p),
        requires: jsonFlag(p, "requires"),
      };
    }
  }
}

function jsonFlag(p: Parsed, name: string): unknown {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch (e) {
    throw new ProtocolInputError(`--${name}`, `must be JSON (${(e as Error).message})`);
  }
}

function activationFlags(p: Parsed): unknown {
  const onActivate = jsonFlag(p, "on-activate");
  const exports = jsonFlag(p, "export");
  if (onActivate === undefined && exports === undefined) return undefined;
  return {
    ...(onActivate !== undefined ? { onActivate } : {}),
    ...(exports !== undefined ? { exports } : {}),
  };
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help") {
    process.stderr.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  let step = "arguments";
  try {
    const p = parseArgv(rest);
    if (p.flags.has("help")) {
      process.stderr.write(USAGE + "\n");
      return 0;
    }
    const store = flag(p, "store") ?? DEFAULT_STORE;
    const trusted = flag(p, "trusted") ?? DEFAULT_TRUSTED;
    if (command === "serve" || command === "resident") {
      if (p.positional.length) throw new ProtocolInputError(command, "takes no arguments");
      const seconds = (name: string) => {
        const v = flag(p, name);
        if (v === undefined) return 0;
        if (!/^\d{1,6}$/.test(v) || Number(v) > MAX_RESIDENT_SECONDS)
          throw new ProtocolInputError(
            `--${name}`,
            `must be a number of seconds up to ${MAX_RESIDENT_SECONDS}`,
          );
        return Number(v);
      };
      if (command === "resident") {
        const idleSeconds = seconds("idle");
        if (!idleSeconds) throw new ProtocolInputError("--idle", "is required");
        return await resident({ store, trusted, idleSeconds });
      }
      const idleSeconds = seconds("resident");
      const code = await serve({ store, trusted, input: process.stdin, output: process.stdout });
      if (idleSeconds) await startResident({ store, trusted, idleSeconds }).catch(() => false);
      return code;
    }
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw new AgentError(
        "BAD_REQUEST",
        "arguments",
        `unknown command ${JSON.stringify(command)}; run keel-agent --help`,
      );
    }
    const cmd = command as Command;
    const raw = argsFor(cmd, p) as Record<string, unknown>;
    if ((SECTION_COMMANDS as readonly string[]).includes(cmd)) raw.kind = flag(p, "kind");
    for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
    const args = validateArgs(cmd, raw);
    step = cmd;
    const ctx = createContext(store, trusted);
    const input = cmd === "receive" ? fileInput(flag(p, "stream") ?? "-") : undefined;
    print(await runCommand(cmd, args, ctx, input));
    return 0;
  } catch (e) {
    const error = toErrorBody(e, step);
    print({ error });
    if (error.code === "BUSY") return 75;
    return step === "arguments" && (error.code === "BAD_REQUEST" || error.code === "INVALID_NAME") ? 2 : 1;
  }
}
