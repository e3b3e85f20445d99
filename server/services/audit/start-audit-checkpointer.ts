// Keeps the audit log's signed checkpoints current while the console runs (docs/audit.md): one
// within KEEL_AUDIT_CHECKPOINT_SECONDS of any new event, within about a second of an important
// one (the database NOTIFYs `keel_audit` on commit; migration 20261205120000), and a last one when
// the console stops. Each checkpoint also goes to syslog and/or a webhook when configured, so a
// copy exists where whoever holds the database (or even the console's disk) cannot reach it.
import { spawn } from "node:child_process";
import pg from "pg";
import type { PrismaClient } from "@prisma/client";
import { writeAuditCheckpoint } from "./write-audit-checkpoint";

export type AuditCheckpointer = {
  stop(): Promise<void>;
  /** Resolves after the next checkpoint attempt (tests). */ flush(): Promise<void>;
};

const PROMPT_MS = 1_000;

/** logger's arguments for a KEEL_AUDIT_SYSLOG value; null when off. */
export function syslogArgs(spec: string | undefined): string[] | null {
  if (!spec || spec === "0" || spec === "false") return null;
  const m = /^(udp|tcp):\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(spec);
  return m ? ["-n", m[2]!, "-P", m[3]!, m[1] === "udp" ? "-d" : "-T"] : [];
}

export async function startAuditCheckpointer(o: {
  db: PrismaClient;
  databaseUrl: string;
  dataDir: string;
  intervalSeconds: number;
  /** KEEL_AUDIT_SYSLOG: `local`/`1`/`true`, `udp://host:port` or `tcp://host:port`. */
  syslog?: string;
  webhookUrl?: string;
  log?: (line: string) => void;
}): Promise<AuditCheckpointer> {
  const log = o.log ?? ((s: string) => console.error(`keel: audit checkpoint: ${s}`));
  let running: Promise<void> = Promise.resolve();
  let lastProblem = "";
  const once = () =>
    (running = running.then(async () => {
      try {
        const r = await writeAuditCheckpoint({ db: o.db, dataDir: o.dataDir });
        if (r.written) {
          lastProblem = "";
          await send(r.line);
        } else if (r.reason === "tampered" && r.problem !== lastProblem) {
          lastProblem = r.problem;
          log(`NOT written: ${r.problem}`);
        }
      } catch (e) {
        log(`failed: ${(e as Error).message}`);
      }
    }));
  const send = async (line: string) => {
    const target = syslogArgs(o.syslog);
    if (target) {
      const p = spawn("logger", ["-t", "keel-audit", "-p", "auth.notice", ...target, "--", line], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      p.stderr.on("data", (b: Buffer) => (err += b.toString()));
      p.once("error", (e) => log(`syslog (logger): ${e.message}`));
      p.once("exit", (code) => void (code && log(`syslog (logger) exited ${code}: ${err.trim()}`)));
    }
    if (o.webhookUrl) {
      await fetch(o.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: line,
        signal: AbortSignal.timeout(5_000),
      })
        .then((res) => void (res.ok || log(`webhook ${o.webhookUrl} answered ${res.status}`)))
        .catch((e: unknown) => log(`webhook ${o.webhookUrl}: ${(e as Error).message}`));
    }
  };

  let soon: NodeJS.Timeout | undefined;
  const prompt = () => (soon ??= setTimeout(() => ((soon = undefined), void once()), PROMPT_MS));
  const listener = new pg.Client({ connectionString: o.databaseUrl });
  listener.on("notification", prompt);
  // A dropped LISTEN connection only delays checkpoints to the interval; say so once.
  listener.on("error", (e) =>
    log(`listening for audit events: ${e.message}; checkpoints continue every ${o.intervalSeconds} s`),
  );
  await listener.connect();
  await listener.query("LISTEN keel_audit");
  const timer = setInterval(() => void once(), o.intervalSeconds * 1000);
  void once();
  return {
    flush: () => once(),
    async stop() {
      clearInterval(timer);
      clearTimeout(soon);
      await listener.end().catch(() => undefined);
      await once();
    },
  };
}
