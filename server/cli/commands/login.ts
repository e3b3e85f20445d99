import { parseFlags } from "@/server/cli/args";
import { createKeelClient } from "@/server/cli/client";
import type { Command } from "@/server/cli/command";
import { saveConfig } from "@/server/cli/config";
import { CliError } from "@/server/cli/errors";

export const loginCommand: Command = {
  name: "login",
  summary: "remember a console URL and API token (checked before saving)",
  usage: ["keel login --url URL --token TOKEN"],
  async run(args, io) {
    const { values } = parseFlags(args, { url: { type: "string" }, token: { type: "string" } });
    if (!values.url || !values.token) throw new CliError("usage: keel login --url URL --token TOKEN");
    const url = new URL(values.url).origin;
    const me = await createKeelClient({ url, token: values.token }).me.whoami.query();
    const file = saveConfig({ url, token: values.token }, io.env);
    io.out(`Logged in to ${url} as ${me.email} (${me.roles.join(", ") || "no roles"}); saved to ${file}`);
  },
};
