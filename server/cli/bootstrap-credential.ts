// `keel hosts add … --bootstrap-key FILE | --bootstrap-password`: the admin's one-time credential
// for a host that does not trust the console's key yet. Never taken from the command line (other
// users see it in `ps`): the key is read from a file, the password from the terminal without echo,
// or from the first line of stdin for scripts.
import { readFileSync } from "node:fs";
import { CliError } from "./errors";

async function readSecretLine(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) {
      text += String(chunk);
      if (text.includes("\n") || text.length > 4096) break;
    }
    return text.split("\n")[0]!.replace(/\r$/, "");
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    let text = "";
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === "\r" || ch === "\n") return text;
        if (ch === "\u0003") throw new CliError("cancelled");
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    }
    return text;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

export async function bootstrapCredential(
  v: { "bootstrap-key"?: string; "bootstrap-password"?: boolean },
  user: string,
): Promise<{ password: string } | { privateKey: string; passphrase?: string } | null> {
  if (v["bootstrap-key"] && v["bootstrap-password"])
    throw new CliError("give --bootstrap-key FILE or --bootstrap-password, not both");
  if (v["bootstrap-key"]) {
    let privateKey: string;
    try {
      privateKey = readFileSync(v["bootstrap-key"], "utf8");
    } catch (e) {
      throw new CliError(`cannot read the private key ${v["bootstrap-key"]}: ${(e as Error).message}`);
    }
    const passphrase = /ENCRYPTED|aes\d+-ctr|bcrypt/.test(privateKey)
      ? await readSecretLine(`passphrase of ${v["bootstrap-key"]}: `)
      : undefined;
    return { privateKey, ...(passphrase ? { passphrase } : {}) };
  }
  if (v["bootstrap-password"]) {
    const password = await readSecretLine(`one-time password of ${user} on the host (not stored): `);
    if (!password) throw new CliError("no password given");
    return { password };
  }
  return null;
}
