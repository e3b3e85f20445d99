// `keel keys list|create|import|retire`: release signing keys (private halves never leave the console).
import { readFileSync } from "node:fs";
import { parseFlags } from "@/server/cli/args";
import type { Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";
import { table } from "@/server/cli/format";

export const keysCommand: Command = {
  name: "keys",
  summary: "release signing keys: list, create, import, retire",
  usage: [
    "keel keys list",
    "keel keys create NAME",
    "keel keys import NAME PUBLIC_KEY_FILE",
    "keel keys retire KEY_ID [--remove]",
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "list": {
        const keys = await io.client().keys.list.query();
        if (keys.length === 0) return io.out("no signing keys; create one with `keel keys create NAME`");
        const rows = [["KEY ID", "NAME", "STATUS", "RELEASES", "CREATED", "NOTE"]];
        for (const k of keys)
          rows.push([
            k.keyId,
            k.name,
            k.status,
            String(k.releases),
            k.createdAt.toISOString(),
            k.isSigningKey ? "signs new releases" : k.hasPrivateKey ? "" : "public only",
          ]);
        for (const line of table(rows)) io.out(line);
        return;
      }
      case "create": {
        const name = rest.join(" ").trim();
        if (!name) throw new CliError("usage: keel keys create NAME");
        const k = await io.client().keys.create.mutate({ name });
        io.out(`created key ${k.keyId}; new releases are signed with it`);
        io.out(k.publicKeyLine);
        return;
      }
      case "import": {
        const [name, file] = rest;
        if (!name || !file || rest.length !== 2)
          throw new CliError("usage: keel keys import NAME PUBLIC_KEY_FILE");
        let publicKey: string;
        try {
          publicKey = readFileSync(file, "utf8");
        } catch (e) {
          throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
        }
        const k = await io.client().keys.import.mutate({ name, publicKey });
        io.out(`trusting ${k.name} (${k.keyId}) for pushed releases`);
        return;
      }
      case "retire": {
        const { values, positionals } = parseFlags(rest, { remove: { type: "boolean" } });
        const [keyId] = positionals;
        if (!keyId || positionals.length !== 1)
          throw new CliError("usage: keel keys retire KEY_ID [--remove]");
        const r = await io.client().keys.retire.mutate({ keyId, remove: values.remove ? true : undefined });
        io.out(r.changed ? `key ${r.keyId} is now ${r.status}` : `key ${r.keyId} was already ${r.status}`);
        return;
      }
      default:
        throw new CliError(`usage:\n  ${keysCommand.usage.join("\n  ")}`);
    }
  },
};
