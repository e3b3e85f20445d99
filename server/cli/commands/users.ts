import type { Command } from "../command";
import { CliError } from "../errors";
import { table } from "../format";

export const usersCommand: Command = {
  name: "users",
  summary: "list the console's users (admin)",
  usage: ["keel users list"],
  async run(args, io) {
    if (args[0] !== "list") throw new CliError("usage: keel users list");
    const users = await io.client().users.list.query();
    const rows = [["EMAIL", "NAME", "ROLES", "STATE", "SESSIONS"]];
    for (const u of users)
      rows.push([u.email, u.name, u.roles.join(",") || "-", u.disabled ? "disabled" : "active", String(u.activeSessions)]);
    for (const line of table(rows)) io.out(line);
  },
};
