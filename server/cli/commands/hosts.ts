// `keel hosts add|import|list|show|remove|refresh|repin`: the inventory from the command line, through
// the same API (and role checks) as the console. `add` shows the host key fingerprint and enrolls
// only after it is accepted (interactively, or with --accept FINGERPRINT for scripts).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Command } from "@/server/cli/command";
import { parseFlags } from "@/server/cli/args";
import { CliError } from "@/server/cli/errors";
import { table } from "@/server/cli/format";
import { bootstrapCredential } from "@/server/cli/bootstrap-credential";

function labelsOf(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(/[\s,]+/)) {
    if (!part) continue;
    const i = part.indexOf("=");
    if (i <= 0) throw new CliError(`label "${part}" is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

const USAGE = [
  "keel hosts list [--label k=v] [--env E] [--app A] [--version V] [--os OS] [--unreachable] [--search TEXT] [--all | --after CURSOR | --before CURSOR] [--csv]   (--all pages through every host; with --json it prints every page's answer)",
  "keel hosts show NAME [--at ISO-TIME]",
  "keel hosts add NAME ADDRESS [--port 22] [--user root] [--sudo] [--env E] [--label k=v] [--accept SHA256:…] [--bootstrap-key FILE | --bootstrap-password]",
  "    (--bootstrap-*: the host does not trust the console's key yet; your key or password, read from the terminal or stdin, installs it once and is not stored)",
  "keel hosts import FILE [--format lab|csv|ssh-config] [--known-hosts FILE] [--accept-presented-keys] [--env E]",
  "keel hosts remove NAME",
  "keel hosts refresh [NAME…] [--all]",
  "keel hosts repin NAME [--accept SHA256:…]   (after its host key changed: keeps its id and history)",
];

export const hostsCommand: Command = {
  name: "hosts",
  summary: "enroll, import, list, show, refresh and remove hosts",
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    const client = () => io.client();
    const byName = async (name: string) => {
      const page = await client().hosts.list.query({ filter: { q: name }, pageSize: 500 });
      const h = page.rows.find((r) => r.name === name);
      if (!h) throw new CliError(`no host named ${name}`);
      return h;
    };
    switch (sub) {
      case "list": {
        const { values: v } = parseFlags(rest, {
          label: { type: "string" },
          env: { type: "string" },
          app: { type: "string" },
          version: { type: "string" },
          os: { type: "string" },
          search: { type: "string" },
          unreachable: { type: "boolean" },
          all: { type: "boolean" },
          after: { type: "string" },
          before: { type: "string" },
          csv: { type: "boolean" },
        });
        const labels = labelsOf(v.label);
        const filter = {
          ...(Object.keys(labels).length ? { labels } : {}),
          ...(v.env ? { environments: [v.env] } : {}),
          ...(v.app ? { app: v.app } : {}),
          ...(v.version ? { version: v.version } : {}),
          ...(v.os ? { os: v.os } : {}),
          ...(v.search ? { q: v.search } : {}),
          ...(v.unreachable ? { reachable: false } : {}),
        };
        if (v.csv) {
          io.out((await client().hosts.exportCsv.query({ table: "hosts", filter })).csv.trimEnd());
          return;
        }
        // Keyset pages (docs/decisions/0027-keyset-pagination.md): --all follows nextCursor to the end.
        let page = await client().hosts.list.query({
          filter,
          after: v.after,
          before: v.before,
          pageSize: v.all ? 500 : 100,
        });
        const all = [...page.rows];
        while (v.all && page.nextCursor) {
          page = await client().hosts.list.query({ filter, after: page.nextCursor, pageSize: 500 });
          all.push(...page.rows);
        }
        const rows = [["NAME", "ADDRESS", "ENV", "LABELS", "OS", "APPS", "STATE", "LAST SEEN"]];
        for (const h of all)
          rows.push([
            h.name,
            `${h.address}:${h.port}`,
            h.environment ?? "-",
            Object.entries(h.labels)
              .map(([k, x]) => `${k}=${x}`)
              .join(",") || "-",
            h.os ?? "-",
            String(h.appCount),
            h.hostKeyChanged
              ? "KEY CHANGED"
              : h.reachable === null
                ? "new"
                : h.reachable
                  ? "ok"
                  : "unreachable",
            h.lastSeenAt?.toISOString() ?? "never",
          ]);
        for (const line of table(rows)) io.out(line);
        io.out(`${page.total} hosts${v.all ? "" : `, ${all.length} shown`}`);
        if (!v.all && page.prevCursor) io.out(`previous page: --before ${page.prevCursor}`);
        if (!v.all && page.nextCursor) io.out(`next page: --after ${page.nextCursor}`);
        return;
      }
      case "show": {
        const { values: v, positionals } = parseFlags(rest, { at: { type: "string" } });
        if (!positionals[0]) throw new CliError(`usage: ${USAGE[1]}`);
        const h = await client().hosts.get.query({
          name: positionals[0],
          ...(v.at ? { at: new Date(v.at) } : {}),
        });
        io.out(
          `${h.name}  ${h.user}@${h.address}:${h.port}  env=${h.environment ?? "-"}  ${h.reachable === false ? `UNREACHABLE (${h.lastError})` : ""}`,
        );
        if (h.retiredAt)
          io.out(
            `RETIRED    removed from the inventory at ${h.retiredAt.toISOString()}${h.retiredBy ? ` by ${h.retiredBy}` : ""}; last known state below`,
          );
        io.out(
          `host key   ${h.hostKeyFingerprint}${h.hostKeyChanged ? `  CHANGED → ${h.presentedKeyFingerprint}` : ""}`,
        );
        io.out(
          `os         ${h.os ?? "-"}  kernel ${h.kernel ?? "-"}  arch ${h.arch ?? "-"}  agent ${h.agentVersion ?? "-"}`,
        );
        io.out(
          `labels     ${
            Object.entries(h.labels)
              .map(([k, x]) => `${k}=${x}`)
              .join(" ") || "-"
          }`,
        );
        io.out(`store      ${h.storeUsedBytes ?? "?"} of ${h.storeTotalBytes ?? "?"} bytes used`);
        io.out(`last seen  ${h.lastSeenAt?.toISOString() ?? "never"}`);
        io.out(h.at ? `apps as of ${h.at.toISOString()}:` : "apps:");
        for (const a of h.apps)
          io.out(
            `  ${a.app.padEnd(20)} ${a.versions.map((x) => `${x.version}${x.isCurrent ? "*" : x.isPrevious ? "^" : ""}`).join(" ")}`,
          );
        io.out("timeline:");
        for (const e of h.events.slice(0, 20))
          io.out(`  ${e.at.toISOString()}  ${e.kind.padEnd(18)} ${e.message}`);
        return;
      }
      case "add": {
        const { values: v, positionals } = parseFlags(rest, {
          port: { type: "string" },
          user: { type: "string" },
          sudo: { type: "boolean" },
          env: { type: "string" },
          label: { type: "string" },
          accept: { type: "string" },
          "bootstrap-key": { type: "string" },
          "bootstrap-password": { type: "boolean" },
        });
        const [name, address] = positionals;
        if (!name || !address) throw new CliError(`usage: ${USAGE[2]}`);
        const port = Number(v.port ?? 22);
        const key = await client().hosts.fetchHostKey.mutate({ address, port });
        io.out(`${address}:${port} presents host key ${key.fingerprint} (${key.algorithm ?? "?"})`);
        let accepted = v.accept;
        if (!accepted) {
          if (!process.stdin.isTTY)
            throw new CliError(
              "compare the fingerprint with the host, then run again with --accept FINGERPRINT",
            );
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question("Did you compare it with the host, and accept it? [y/N] ");
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim()))
            throw new CliError("not enrolled: the fingerprint was not accepted");
          accepted = key.fingerprint;
        }
        const req = {
          name,
          address,
          port,
          user: v.user ?? "root",
          sudoMode: v.sudo ? ("sudo" as const) : ("none" as const),
          environment: v.env ?? null,
          labels: labelsOf(v.label),
          acceptedFingerprint: accepted,
        };
        const credential = await bootstrapCredential(v, req.user);
        if (credential) {
          const b = await client().hosts.bootstrapKey.mutate({ ...req, credential });
          io.out(
            `${b.added ? "installed" : "found"} the console's key in ~${req.user}/.ssh/authorized_keys on ${name} (with your ${b.method}, not stored)`,
          );
        }
        const r = await client().hosts.enroll.mutate({ ...req, refresh: true });
        io.out(
          `enrolled ${r.name}${r.refresh ? ` (first refresh: ${r.refresh.status}${r.refresh.message ? ` — ${r.refresh.message}` : ""})` : ""}`,
        );
        if (r.warning) io.out(`warning: ${r.warning}`);
        return;
      }
      case "import": {
        const { values: v, positionals } = parseFlags(rest, {
          format: { type: "string" },
          "known-hosts": { type: "string" },
          "accept-presented-keys": { type: "boolean" },
          env: { type: "string" },
        });
        const file = positionals[0];
        if (!file) throw new CliError(`usage: ${USAGE[4]}`);
        const format = (v.format ??
          (file.endsWith(".json") ? "lab" : file.endsWith(".csv") ? "csv" : "ssh-config")) as
          "lab" | "csv" | "ssh-config";
        const r = await client().hosts.import.mutate({
          format,
          text: readFileSync(file, "utf8"),
          knownHosts: v["known-hosts"] ? readFileSync(v["known-hosts"], "utf8") : undefined,
          acceptPresentedKeys: !!v["accept-presented-keys"],
          environment: v.env ?? null,
        });
        for (const p of r.problems) io.out(`problem: ${p}`);
        for (const o of r.outcomes)
          io.out(`${o.name.padEnd(24)} ${o.status}${o.message ? ` — ${o.message}` : ""}`);
        io.out(`${r.enrolled} enrolled`);
        if (r.outcomes.some((o) => o.status === "failed" || o.status === "invalid"))
          throw new CliError("some hosts were not imported", 2);
        return;
      }
      case "remove": {
        if (!rest[0]) throw new CliError(`usage: ${USAGE[5]}`);
        const h = await byName(rest[0]);
        const r = await client().hosts.remove.mutate({ id: h.id });
        io.out(
          `removed ${r.name} from the inventory at ${r.retiredAt.toISOString()}; its history is kept (keel hosts show ${r.name})`,
        );
        return;
      }
      case "refresh": {
        const { values: v, positionals } = parseFlags(rest, { all: { type: "boolean" } });
        if (!v.all && positionals.length === 0) throw new CliError(`usage: ${USAGE[6]}`);
        const ids = v.all ? [] : await Promise.all(positionals.map(async (n) => (await byName(n)).id));
        const r = await client().hosts.refresh.mutate(v.all ? { all: true } : { hostIds: ids });
        if (r.background) io.out(`refreshing ${r.total} hosts in the background`);
        for (const x of r.results)
          io.out(
            `${x.name.padEnd(24)} ${x.status}${x.changed ? " (changed)" : ""}${x.message ? ` — ${x.message}` : ""}`,
          );
        return;
      }
      case "repin": {
        const { values: v, positionals } = parseFlags(rest, { accept: { type: "string" } });
        if (positionals.length !== 1) throw new CliError(`usage: ${USAGE[7]}`);
        const h = await client().hosts.get.query({ name: positionals[0]! });
        if (!h.hostKeyChanged)
          throw new CliError(
            `${h.name}'s host key has not changed (pinned ${h.hostKeyFingerprint}); nothing to re-pin`,
          );
        io.out(
          `${h.name} is pinned to ${h.hostKeyFingerprint} and now presents ${h.presentedKeyFingerprint ?? "an unknown key"}`,
        );
        let accepted = v.accept;
        if (!accepted) {
          if (!process.stdin.isTTY)
            throw new CliError(
              "check the new fingerprint on the machine, then pass it with --accept SHA256:…",
            );
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = (
            await rl.question(
              "Checked on the machine itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)? Type the fingerprint to accept it: ",
            )
          ).trim();
          rl.close();
          accepted = answer;
        }
        const r = await client().hosts.repin.mutate({ id: h.id, acceptedFingerprint: accepted });
        io.out(`re-pinned ${r.name}: host key ${r.fingerprint}`);
        return;
      }
      default:
        throw new CliError(`usage:\n  ${USAGE.join("\n  ")}`);
    }
  },
};
