import type { Command } from "@/server/cli/command";

export const whoamiCommand: Command = {
  name: "whoami",
  summary: "show the user and roles the saved token acts as",
  usage: ["keel whoami"],
  async run(_args, io) {
    const me = await io.client().me.whoami.query();
    io.out(`${me.email} (${me.name}) roles: ${me.roles.join(", ") || "none"}`);
  },
};
