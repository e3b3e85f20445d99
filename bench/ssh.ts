// `npm run bench:ssh`: facts from N = 10, 50, 100 lab hosts with Keel (ssh2 + keel-agent facts)
// and with Ansible (`ansible -m setup`, forks = N, SSH multiplexing on, generated inventory and
// known_hosts), in one run against one lab. Reports wall time and per-host p50/p95 (time from the
// start until that host's answer arrived) and writes them into docs/benchmarks.md under "SSH".
//   npm run bench:ssh -- [--sizes 10,50,100] [--keep-lab NAME] [--no-write]
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { labDown, labUp, type LabInventory } from "@/infra/lab/api";
import { hostPaths, labPaths } from "@/infra/lab/names";
import { ensureAgent, loadAgentBundle, mapHosts, runAgent, SshPool, type SshTarget } from "@/server/ssh";

const DATE = "2026-11-26";

interface Row {
  tool: "Keel" | "Ansible";
  n: number;
  ok: number;
  wallMs: number;
  p50Ms: number;
  p95Ms: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function keelFacts(inv: LabInventory, key: string, n: number): Promise<Row> {
  const targets: SshTarget[] = inv.hosts.slice(0, n).map((h) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKey: key,
    pinnedFingerprint: h.hostKeyFingerprint,
  }));
  // Cold: a new pool, so connection set-up and host-key checks are part of the figure.
  const pool = new SshPool({ maxConnections: n });
  const started = Date.now();
  const done: number[] = [];
  try {
    const results = await mapHosts(targets, (t) => pool.withConnection(t, (c) => runAgent(c, "facts", {})), {
      concurrency: n,
      onResult: (r) => r.ok && done.push(Date.now() - started),
    });
    const wallMs = Date.now() - started;
    const failed = results.filter((r) => !r.ok);
    if (failed.length)
      console.error(`keel: ${failed.length} failed, e.g. ${!failed[0]!.ok ? failed[0]!.error.message : ""}`);
    return {
      tool: "Keel",
      n,
      ok: done.length,
      wallMs,
      p50Ms: percentile(done, 50),
      p95Ms: percentile(done, 95),
    };
  } finally {
    await pool.close();
  }
}

async function ansibleFacts(inv: LabInventory, keyPath: string, n: number, dir: string): Promise<Row> {
  const hosts = inv.hosts.slice(0, n);
  const p = labPaths(inv.lab);
  const inventory =
    [
      "[lab]",
      ...hosts.map(
        (h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user}`,
      ),
    ].join("\n") + "\n";
  const knownHosts =
    hosts
      .map(
        (h) =>
          `${h.address} ${readFileSync(`${hostPaths(p, h.index).hostKey}.pub`, "utf8")
            .trim()
            .split(" ")
            .slice(0, 2)
            .join(" ")}`,
      )
      .join("\n") + "\n";
  const runDir = join(dir, `ansible-${n}`);
  const cp = join(runDir, "cp");
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(cp, { recursive: true });
  writeFileSync(join(runDir, "hosts.ini"), inventory);
  writeFileSync(join(runDir, "known_hosts"), knownHosts);
  writeFileSync(
    join(runDir, "ansible.cfg"),
    [
      "[defaults]",
      `forks = ${n}`,
      "host_key_checking = True",
      "interpreter_python = /usr/bin/python3",
      "retry_files_enabled = False",
      `local_tmp = ${join(runDir, "tmp")}`,
      "[ssh_connection]",
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${join(runDir, "known_hosts")} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
      `control_path_dir = ${cp}`,
      "pipelining = True",
      "",
    ].join("\n"),
  );
  const started = Date.now();
  const done: number[] = [];
  let failed = 0;
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      "ansible",
      [
        "all",
        "-i",
        join(runDir, "hosts.ini"),
        "-m",
        "setup",
        "--forks",
        String(n),
        "--private-key",
        keyPath,
        "-o",
      ],
      {
        env: {
          ...process.env,
          ANSIBLE_CONFIG: join(runDir, "ansible.cfg"),
          ANSIBLE_NOCOLOR: "1",
          ANSIBLE_HOME: join(runDir, "home"),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (/ \| SUCCESS/.test(line)) done.push(Date.now() - started);
        else if (/ \| (FAILED|UNREACHABLE)/.test(line)) failed++;
      }
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on("error", reject);
    child.on("close", (c) => {
      if (c !== 0) console.error(`ansible exited ${c}: ${err}`);
      resolve(c ?? 1);
    });
  });
  const wallMs = Date.now() - started;
  // close the multiplexing masters this run left behind
  for (const sock of existsSync(cp) ? readdirSync(cp) : []) {
    await new Promise((r) =>
      spawn("ssh", ["-O", "exit", "-o", `ControlPath=${join(cp, sock)}`, "x"], { stdio: "ignore" }).on(
        "close",
        r,
      ),
    );
  }
  if (failed || code !== 0) console.error(`ansible: ${failed} hosts failed`);
  return {
    tool: "Ansible",
    n,
    ok: done.length,
    wallMs,
    p50Ms: percentile(done, 50),
    p95Ms: percentile(done, 95),
  };
}

const s = (ms: number) => (ms / 1000).toFixed(2);

function table(rows: Row[]): string {
  const lines = [
    "| N | tool | hosts ok | wall (s) | per-host p50 (s) | per-host p95 (s) | Keel / Ansible wall |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const other = rows.find((o) => o.n === r.n && o.tool === "Ansible");
    const ratio = r.tool === "Keel" && other ? (r.wallMs / other.wallMs).toFixed(3) : "";
    lines.push(
      `| ${r.n} | ${r.tool} | ${r.ok}/${r.n} | ${s(r.wallMs)} | ${s(r.p50Ms)} | ${s(r.p95Ms)} | ${ratio} |`,
    );
  }
  return lines.join("\n");
}

function writeSection(body: string): void {
  const file = "docs/benchmarks.md";
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = text.search(/^## SSH\s*$/m);
  let out: string;
  if (start < 0) out = text.trimEnd() + "\n\n" + body.trimEnd() + "\n";
  else {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    const end = next < 0 ? text.length : start + 1 + next;
    out = text.slice(0, start) + body.trimEnd() + "\n" + (end < text.length ? "\n" + text.slice(end) : "");
  }
  writeFileSync(file, out);
}

async function main(): Promise<void> {
  const sizes = (arg("sizes") ?? "10,50,100").split(",").map(Number);
  const max = Math.max(...sizes);
  const keep = arg("keep-lab");
  const lab = keep ?? "sshbench" + randomBytes(3).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-ssh-"));
  console.log(`lab ${lab}: bringing up ${max} hosts…`);
  const t0 = Date.now();
  const inv = await labUp({ lab, count: max });
  console.log(`lab up in ${s(Date.now() - t0)} s`);
  const keyPath = inv.consoleKey.privateKeyPath!;
  const key = readFileSync(keyPath, "utf8");
  const rows: Row[] = [];
  try {
    // Agent delivery is set-up, not the measured operation: upload once to every host first.
    const bundle = await loadAgentBundle();
    const pool = new SshPool();
    const all = inv.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      privateKey: key,
      pinnedFingerprint: h.hostKeyFingerprint,
    }));
    let todo = all;
    for (let round = 1; todo.length > 0; round++) {
      const up = await mapHosts(todo, (t) => pool.withConnection(t, (c) => ensureAgent(c, { bundle })), {
        concurrency: 25,
      });
      const failed = up.filter((r) => !r.ok);
      for (const f of failed)
        if (!f.ok)
          console.error(`agent upload round ${round}: ${f.host}: ${f.error.code} ${f.error.message}`);
      if (failed.length && round >= 3) throw new Error(`agent upload failed on ${failed.length} hosts`);
      todo = todo.filter((t) => failed.some((f) => f.host === t.name));
    }
    await pool.close();
    for (const n of sizes) {
      rows.push(await keelFacts(inv, key, n));
      console.log(table(rows.slice(-1)));
      rows.push(await ansibleFacts(inv, keyPath, n, dir));
      console.log(table(rows.slice(-1)));
    }
  } finally {
    if (!keep) await labDown(lab);
    rmSync(dir, { recursive: true, force: true });
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  const body = `## SSH

Measured ${DATE} with \`npm run bench:ssh\` against one lab (\`infra/lab\`, hosts in network namespaces on
this 2-core machine, shared with other work: load average ${load} at the end). Facts from N hosts at
once, cold: a new connection per host (TCP, key exchange, pinned host key, authentication) each run.
Keel: \`SshPool\` + \`mapHosts\` (concurrency N) + \`keel-agent facts\` over \`serve\` (agent uploaded
beforehand). Ansible: Debian's \`ansible\` \`-m setup\`, forks = N, ControlMaster/ControlPersist,
pipelining, generated inventory and known_hosts (StrictHostKeyChecking=yes). \`setup\` gathers more
than Keel's facts (Keel: host identity, OS, kernel, CPU, memory, store and installed versions).
Per-host figures are the time from the start until that host's answer arrived.

${table(rows)}
`;
  console.log("\n" + body);
  if (!process.argv.includes("--no-write")) writeSection(body);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
