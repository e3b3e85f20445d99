import type { Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";
import { table } from "@/server/cli/format";

export const usersCommand: Command = {
  name: "users",
  summary: "list the console's users; unlock an account's sign-in (admin)",
  usage: ["keel users list", "keel users unlock EMAIL"],
  async run(args, io) {
    if (args[0] === "unlock") {
      const email = args[1]?.trim().toLowerCase();
      if (!email || args.length !== 2) throw new CliError("usage: keel users unlock EMAIL");
      const user = (await io.client().users.list.query()).find((u) => u.email === email);
      if (!user) throw new CliError(`no user with the e-mail ${email}`);
      const r = await io.client().users.unlock.mutate({ userId: user.id });
      io.out(
        r.hadFailures
          ? `${r.email}: failed sign-ins forgotten; the account can sign in again at once`
          : `${r.email}: no failed sign-ins to forget`,
      );
      return;
    }
    if (args[0] !== "list") throw new CliError("usage: keel users list | keel users unlock EMAIL");
    const users = await io.client().users.list.query();
    const rows = [["EMAIL", "NAME", "ROLES", "STATE", "SESSIONS"]];
    for (const u of users)
      rows.push([
        u.email,
        u.name,
        u.roles.join(",") || "-",
        u.disabled ? "disabled" : "active",
        String(u.activeSessions),
      ]);
    for (const line of table(rows)) io.out(line);
  },
};
