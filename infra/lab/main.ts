// `npm run lab -- <command>`: the lab fleet's command line. See docs/lab.md.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { consoleIdentity } from "@/server/console-identity";
import { labDown } from "./down";
import { nsenterArgv, resolveHost } from "./exec";
import { DEFAULT_LAB, LabError } from "./names";
import { labUp } from "./up";
import * as more from "./api";

const USAGE = `usage: npm run lab -- <command> [--lab NAME]
  up N [--ext4] [--console-key PUBKEY_PATH | --own-key] [--concurrency K]
  down
  status
  fault HOST drop|delay MS|loss PCT|restore
  rekey HOST [--update-inventory]
  fill-disk HOST [--release]
  exec HOST -- ARGV...
  inventory            print the inventory file's path and contents
(default lab name: ${DEFAULT_LAB})`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  rest: string[];
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const withValue = new Set(["--lab", "--console-key", "--concurrency"]);
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith("--")) {
      const [k, v] = a.split("=", 2) as [string, string | undefined];
      if (withValue.has(k)) {
        const val = v ?? argv[++i];
        if (val === undefined) throw new LabError(`${k} needs a value`);
        flags.set(k, val);
      } else flags.set(k, true);
    } else positional.push(a);
  }
  return { positional, flags, rest };
}

/**
 * The key the lab's hosts authorize: --console-key, else the console's own key in its data dir
 * (KEEL_DATA_DIR, default .keel; made now if the console has not started yet, and used by
 * `npm start` later), so imported lab hosts connect without another flag. --own-key: a key of the lab's.
 */
function consoleKeyFor(flags: Map<string, string | true>, log: (line: string) => void): string | undefined {
  const given = flags.get("--console-key");
  if (typeof given === "string") return given;
  if (flags.has("--own-key")) return undefined;
  const dataDir = resolve(__dirname, "../..", process.env.KEEL_DATA_DIR ?? ".keel");
  const id = consoleIdentity({ dataDir });
  log(`the lab's hosts authorize the console's SSH key ${id.privateKeyPath}.pub`);
  return `${id.privateKeyPath}.pub`;
}

async function main(): Promise<number> {
  const { positional, flags, rest } = parseArgs(process.argv.slice(2));
  const [cmd, ...args] = positional;
  const lab = (flags.get("--lab") as string | undefined) ?? process.env.KEEL_LAB ?? DEFAULT_LAB;
  const log = (line: string) => process.stderr.write(line + "\n");
  switch (cmd) {
    case "up": {
      const count = Number(args[0]);
      const t0 = Date.now();
      const inv = await labUp({
        lab,
        count,
        ext4: flags.has("--ext4"),
        consoleKeyPath: consoleKeyFor(flags, log),
        concurrency: flags.has("--concurrency") ? Number(flags.get("--concurrency")) : undefined,
        log,
      });
      log(`up took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      console.log(more.inventoryPath(inv.lab));
      return 0;
    }
    case "down":
      await labDown(lab, { log });
      return 0;
    case "status":
      console.log(await more.labStatusText(flags.has("--lab") ? lab : undefined));
      return 0;
    case "inventory":
      console.log(more.inventoryPath(lab));
      console.log(JSON.stringify(more.readInventory(lab), null, 2));
      return 0;
    case "fault": {
      const [host, kind, value] = args;
      if (!host || !kind) throw new LabError("usage: fault HOST drop|delay MS|loss PCT|restore");
      const spec = more.parseFaultSpec(kind, value);
      await more.labFault(lab, host, spec);
      log(`${host}: ${kind}${value ? " " + value : ""}`);
      return 0;
    }
    case "rekey": {
      if (!args[0]) throw new LabError("usage: rekey HOST [--update-inventory]");
      const r = await more.labRekey(lab, args[0], { updateInventory: flags.has("--update-inventory") });
      console.log(
        `${args[0]}: new host key ${r.fingerprint}${r.inventoryUpdated ? " (inventory updated)" : " (inventory keeps the old pinned key)"}`,
      );
      return 0;
    }
    case "fill-disk": {
      if (!args[0]) throw new LabError("usage: fill-disk HOST [--release]");
      if (flags.has("--release")) await more.labReleaseDisk(lab, args[0]);
      else console.log(JSON.stringify(await more.labFillDisk(lab, args[0])));
      return 0;
    }
    case "exec": {
      if (!args[0] || rest.length === 0) throw new LabError("usage: exec HOST -- ARGV...");
      const argv = nsenterArgv(resolveHost(lab, args[0]), rest);
      const r = spawnSync(argv[0] as string, argv.slice(1), { stdio: "inherit" });
      return r.status ?? 1;
    }
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === "help" || flags.has("--help") ? 0 : 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
