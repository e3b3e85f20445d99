// Where `keel login` keeps the console URL and API token: $KEEL_CONFIG, or
// $XDG_CONFIG_HOME/keel/config.json (default ~/.config/keel/config.json), mode 600.
// KEEL_API_URL and KEEL_TOKEN override the file (for scripts and CI).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CliError } from "./errors";

const ZConfig = z.object({ url: z.url(), token: z.string().min(1) });
export type CliConfig = z.infer<typeof ZConfig>;

export function configPath(env = process.env): string {
  if (env.KEEL_CONFIG) return env.KEEL_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "keel", "config.json");
}

export function saveConfig(config: CliConfig, env = process.env): string {
  const file = configPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export function loadConfig(env = process.env): CliConfig {
  if (env.KEEL_API_URL && env.KEEL_TOKEN) return { url: env.KEEL_API_URL, token: env.KEEL_TOKEN };
  const file = configPath(env);
  if (!existsSync(file))
    throw new CliError(`not logged in: run \`keel login --url URL --token TOKEN\` (no ${file})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliError(`${file} is not valid JSON (${(e as Error).message}); run \`keel login\` again`);
  }
  const r = ZConfig.safeParse(parsed);
  if (!r.success)
    throw new CliError(`${file} is incomplete; run \`keel login --url URL --token TOKEN\` again`);
  return {
    url: env.KEEL_API_URL ?? r.data.url,
    token: env.KEEL_TOKEN ?? r.data.token,
  };
}
