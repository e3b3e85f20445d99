// `keel notifications list|add-webhook|add-email|remove|deliveries|test|smtp`: outgoing webhooks and
// e-mail (docs/notifications.md). Adding a webhook prints its signing secret once.
import { parseFlags } from "@/server/cli/args";
import type { Command } from "@/server/cli/command";
import { CliError } from "@/server/cli/errors";
import { table } from "@/server/cli/format";

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const when = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d+Z$/, "Z") : "");

export const notificationsCommand: Command = {
  name: "notifications",
  summary: "outgoing webhooks and e-mail: list, add, remove, deliveries, test",
  usage: [
    "keel notifications list",
    "keel notifications add-webhook NAME URL --events EVENT[,EVENT…]",
    "keel notifications add-email NAME --events EVENT[,…] [--to ADDR[,…]] [--roles ROLE[,…]]",
    "keel notifications remove NAME",
    "keel notifications deliveries [NAME] [--limit N]",
    "keel notifications test NAME",
    "keel notifications smtp HOST PORT --from ADDR [--tls none|starttls|tls] [--user U] [--password-env VAR]",
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseFlags(rest, {
      events: { type: "string" },
      to: { type: "string" },
      roles: { type: "string" },
      limit: { type: "string" },
      from: { type: "string" },
      tls: { type: "string" },
      user: { type: "string" },
      "password-env": { type: "string" },
    });
    const client = () => io.client();
    const byName = async (name: string | undefined) => {
      if (!name) throw new CliError(`usage: keel notifications ${sub} NAME`);
      const c = (await client().notifications.list.query()).find((x) => x.name === name);
      if (!c)
        throw new CliError(`no notification channel named "${name}"; \`keel notifications list\` shows them`);
      return c;
    };
    switch (sub) {
      case "list": {
        const cs = await client().notifications.list.query();
        if (cs.length === 0)
          return io.out(
            "no notification channels; add one with `keel notifications add-webhook NAME URL --events …`",
          );
        const rows = [["NAME", "KIND", "TO", "EVENTS", "DELIVERED", "PENDING", "FAILED"]];
        for (const c of cs)
          rows.push([
            c.name,
            c.kind,
            c.url ?? [...c.to, ...c.roles.map((r) => `role:${r}`)].join(","),
            c.events.join(","),
            String(c.deliveries.delivered ?? 0),
            String((c.deliveries.pending ?? 0) + (c.deliveries.delivering ?? 0)),
            String(c.deliveries.failed ?? 0),
          ]);
        for (const l of table(rows)) io.out(l);
        return;
      }
      case "add-webhook": {
        const [name, url] = positionals;
        if (!name || !url || positionals.length !== 2 || !values.events)
          throw new CliError(`usage: ${notificationsCommand.usage[1]}`);
        const r = await client().notifications.addWebhook.mutate({
          name,
          url,
          events: list(values.events) as never,
        });
        io.out(`added webhook ${r.name}; its signing secret (shown once, keep it with the receiver):`);
        io.out(r.secret);
        return;
      }
      case "add-email": {
        const [name] = positionals;
        if (!name || positionals.length !== 1 || !values.events)
          throw new CliError(`usage: ${notificationsCommand.usage[2]}`);
        const r = await client().notifications.addEmail.mutate({
          name,
          to: list(values.to),
          roles: list(values.roles) as never,
          events: list(values.events) as never,
        });
        io.out(`added e-mail channel ${r.name}`);
        return;
      }
      case "remove": {
        const c = await byName(positionals[0]);
        await client().notifications.remove.mutate({ id: c.id });
        io.out(`removed ${c.name}; its deliveries stay listed`);
        return;
      }
      case "deliveries": {
        const c = positionals[0] ? await byName(positionals[0]) : undefined;
        const limit = values.limit ? Number(values.limit) : undefined;
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 500))
          throw new CliError("--limit must be a whole number from 1 to 500");
        const ds = await client().notifications.deliveries.query({ channelId: c?.id, limit });
        if (ds.length === 0) return io.out("no deliveries yet");
        const rows = [["CREATED", "CHANNEL", "EVENT", "STATE", "ATTEMPTS", "CODE", "LAST ERROR / NEXT TRY"]];
        for (const d of ds)
          rows.push([
            when(d.createdAt),
            d.channel,
            d.event,
            d.state,
            String(d.attempts),
            d.responseCode == null ? "" : String(d.responseCode),
            d.lastError ? `${d.lastError}${d.nextAttemptAt ? ` (again ${when(d.nextAttemptAt)})` : ""}` : "",
          ]);
        for (const l of table(rows)) io.out(l);
        return;
      }
      case "test": {
        const c = await byName(positionals[0]);
        await client().notifications.test.mutate({ id: c.id });
        io.out(
          `queued a test notification to ${c.name}; \`keel notifications deliveries ${c.name}\` shows how it went`,
        );
        return;
      }
      case "smtp": {
        const [host, port] = positionals;
        if (!host || !port || !values.from) throw new CliError(`usage: ${notificationsCommand.usage[6]}`);
        const tls = (values.tls ?? "starttls") as "none" | "starttls" | "tls";
        if (!["none", "starttls", "tls"].includes(tls))
          throw new CliError("--tls must be none, starttls or tls");
        const pwVar = values["password-env"];
        const password = pwVar ? io.env[pwVar] : undefined;
        if (pwVar && !password)
          throw new CliError(`environment variable ${pwVar} is empty; it should hold the SMTP password`);
        const r = await client().notifications.setSmtp.mutate({
          host,
          port: Number(port),
          tls,
          username: values.user,
          password,
          from: values.from,
        });
        io.out(`notification e-mail goes through ${r.host}:${r.port}`);
        return;
      }
      default:
        throw new CliError(`usage:\n  ${notificationsCommand.usage.join("\n  ")}`);
    }
  },
};
