// `keel release push|build|list|show|delete`. Push and build stream the upload to
// /api/releases/upload (not tRPC: bodies of any size); the rest are tRPC calls.
import { spawn } from "node:child_process";
import { createReadStream, existsSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { parseFlags } from "@/server/cli/args";
import type { Command, CliIo } from "@/server/cli/command";
import { loadConfig } from "@/server/cli/config";
import { CliError } from "@/server/cli/errors";
import { table } from "@/server/cli/format";
import { AppError } from "@/server/errors";
import {
  describeHealthCheck,
  MAX_HEALTH_CHECK_JSON,
  parseDuration,
  parseHealthCheck,
  type HealthCheckInput,
} from "@/server/services/releases/health-check";
import type { BuildReleaseResult } from "@/server/services/releases/build-release";
import type { HealthCheck } from "@/agent/protocol";

function bytes(n: number | null): string {
  if (n === null) return "-";
  if (n < 1024) return `${n} B`;
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${u[i]}`;
}

/** POSTs a body to the upload route with the CLI's token; returns `result` or throws the console's message. */
async function upload(
  io: CliIo,
  query: Record<string, string>,
  body: Readable,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const { url, token } = loadConfig(io.env);
  const origin = new URL(url).origin;
  let res: Response;
  try {
    res = await fetch(`${origin}/api/releases/upload?${new URLSearchParams(query)}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", authorization: `Bearer ${token}`, ...headers },
      body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new CliError(`the upload to ${origin} failed (${cause})`);
  }
  const answer = (await res.json().catch(() => null)) as {
    result?: unknown;
    error?: { message?: string };
  } | null;
  if (!res.ok || !answer || answer.result === undefined) {
    const hint = res.status === 401 ? " Run `keel login` with a valid token." : "";
    throw new CliError(`${answer?.error?.message ?? `the console answered HTTP ${res.status}`}${hint}`);
  }
  io.answer?.(`releases.upload?mode=${query.mode}`, answer.result);
  return answer.result;
}

function fileStream(path: string, what: string): Readable {
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliError(`${what} ${path} is not a file`);
  return createReadStream(path);
}

/** A directory as a tar stream (GNU tar, numeric owners), failing the upload if tar fails. */
function tarOf(dir: string): Readable {
  const child = spawn(
    "tar",
    ["--create", "--file=-", `--directory=${dir}`, "--numeric-owner", "--sort=name", "."],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  const out = child.stdout;
  child.on("close", (code) => {
    if (code !== 0) out.destroy(new CliError(`tar of ${dir} failed: ${stderr.trim()}`));
  });
  return out;
}

async function push(args: string[], io: CliIo) {
  const [manifestPath, streamPath] = args;
  if (!manifestPath || !streamPath || args.length !== 2)
    throw new CliError("usage: keel release push MANIFEST STREAM");
  const manifest = Buffer.from(
    await Readable.from(fileStream(manifestPath, "manifest"))
      .toArray()
      .then((c) => Buffer.concat(c as Buffer[])),
  );
  const stream = fileStream(streamPath, "stream");
  async function* body() {
    yield manifest;
    yield* stream;
  }
  const r = (await upload(io, { mode: "push" }, Readable.from(body()), {
    "x-keel-manifest-bytes": String(manifest.length),
  })) as {
    status: string;
    app: string;
    version: string;
  };
  io.out(
    r.status === "unchanged"
      ? `${r.app} ${r.version} is already there with these exact bytes; nothing changed`
      : `pushed ${r.app} ${r.version}`,
  );
}

const BUILD_USAGE =
  "keel release build DIR|TREE.tar|TREE.tar.zst --app APP --version VERSION [--kind app|runtime|rootfs]\n" +
  '      [--health-cmd \'["/usr/bin/curl","-fsS","http://127.0.0.1:8080/health"]\' | --health-url URL [--health-status 200]]\n' +
  "      [--health-timeout 30s] [--health-check-as-root] [--requires 'node@^20, python@>=3.11 <3.13']\n" +
  '      [--on-activate \'{"argv":["bin/restart"],"timeoutMs":30000}\'] [--export \'[{"from":"hello.service","dir":"/etc/systemd/system"}]\']';

/** --on-activate and --export (JSON; docs/activation.md) as the upload's `activation` parameter. */
function activationFromFlags(
  onActivate: string | undefined,
  exports: string | undefined,
): string | undefined {
  if (onActivate === undefined && exports === undefined) return undefined;
  const parse = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v) as unknown;
    } catch (e) {
      throw new CliError(`${flag} must be JSON: ${(e as Error).message}`);
    }
  };
  return JSON.stringify({
    onActivate: parse("--on-activate", onActivate),
    exports: parse("--export", exports),
  });
}

/**
 * The health check from --health-cmd (the argv as a JSON array: no shell is involved, as in a
 * Dockerfile's exec form), or --health-url with --health-status; --health-timeout for both.
 * The command runs as the unprivileged user keel-check; --health-check-as-root signs it as root.
 */
export function healthCheckFromFlags(f: {
  cmd?: string;
  url?: string;
  status?: string;
  timeout?: string;
  asRoot?: boolean;
}): HealthCheck | undefined {
  if (f.asRoot && f.cmd === undefined)
    throw new CliError(
      "--health-check-as-root goes with --health-cmd (an HTTP check runs no command on the host)",
    );
  if (f.cmd === undefined && f.url === undefined) {
    if (f.status !== undefined) throw new CliError("--health-status goes with --health-url");
    if (f.timeout !== undefined)
      throw new CliError("--health-timeout goes with --health-cmd or --health-url");
    return undefined;
  }
  if (f.cmd !== undefined && f.url !== undefined)
    throw new CliError("give either --health-cmd or --health-url, not both");
  if (f.cmd !== undefined && f.status !== undefined)
    throw new CliError("--health-status goes with --health-url");
  let timeoutMs: number | undefined;
  if (f.timeout !== undefined) {
    const ms = parseDuration(f.timeout);
    if (ms === null)
      throw new CliError(`--health-timeout ${f.timeout}: give a duration such as 30s, 1500ms or 2m`);
    timeoutMs = ms;
  }
  let input: HealthCheckInput;
  if (f.cmd !== undefined) {
    let argv: unknown;
    try {
      argv = JSON.parse(f.cmd);
    } catch {
      argv = undefined;
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string"))
      throw new CliError(
        `--health-cmd takes the command as a JSON array of arguments (no shell), e.g. --health-cmd '["/usr/bin/test","-f","/srv/app/ready"]'; got ${JSON.stringify(f.cmd)}`,
      );
    input = {
      type: "exec",
      argv: argv as string[],
      timeoutMs,
      ...(f.asRoot ? { runAs: "root" as const } : {}),
    };
  } else {
    let expectStatus: number | undefined;
    if (f.status !== undefined) {
      if (!/^\d{3}$/.test(f.status))
        throw new CliError(`--health-status ${f.status}: give an HTTP status such as 200`);
      expectStatus = Number(f.status);
    }
    input = { type: "http", url: f.url!, expectStatus, timeoutMs };
  }
  try {
    const h = parseHealthCheck(input);
    if (JSON.stringify(h).length > MAX_HEALTH_CHECK_JSON)
      throw new CliError(`the health check is longer than ${MAX_HEALTH_CHECK_JSON} characters`);
    return h;
  } catch (e) {
    if (e instanceof AppError) throw new CliError(e.message);
    throw e;
  }
}

async function build(args: string[], io: CliIo) {
  const { values, positionals } = parseFlags(args, {
    app: { type: "string" },
    version: { type: "string" },
    kind: { type: "string" },
    "health-cmd": { type: "string" },
    "health-url": { type: "string" },
    "health-status": { type: "string" },
    "health-timeout": { type: "string" },
    "health-check-as-root": { type: "boolean" },
    "on-activate": { type: "string" },
    export: { type: "string" },
    requires: { type: "string" },
  });
  const [from] = positionals;
  if (!from || positionals.length !== 1 || !values.app || !values.version)
    throw new CliError(`usage: ${BUILD_USAGE}`);
  const healthCheck = healthCheckFromFlags({
    cmd: values["health-cmd"],
    url: values["health-url"],
    status: values["health-status"],
    timeout: values["health-timeout"],
    asRoot: values["health-check-as-root"],
  });
  if (!existsSync(from)) throw new CliError(`${from} does not exist`);
  const isDir = statSync(from).isDirectory();
  const format = isDir || /\.tar$/i.test(from) ? "tar" : /\.(tar\.zst|tzst)$/i.test(from) ? "tar.zst" : null;
  if (!format) throw new CliError(`${from} must be a directory, a .tar or a .tar.zst`);
  const body = isDir ? tarOf(from) : fileStream(from, "tree");
  const q: Record<string, string> = { mode: "build", app: values.app, version: values.version, format };
  if (values.kind) q.kind = values.kind;
  if (healthCheck) q.healthCheck = JSON.stringify(healthCheck);
  const activation = activationFromFlags(values["on-activate"], values.export);
  if (activation) q.activation = activation;
  if (values.requires) q.requires = values.requires;
  const r = (await upload(io, q, body)) as BuildReleaseResult;
  io.out(
    `built ${r.app} ${r.version}: ${r.tree.files} files, ${bytes(r.tree.bytes)}; full stream ${bytes(r.fullBytes)}`,
  );
  if (r.parent) io.out(`incremental stream from ${r.parent}: ${bytes(r.incrementalBytes)}`);
  if (r.healthCheck) io.out(`health check: ${describeHealthCheck(r.healthCheck)}`);
}

export const releaseCommand: Command = {
  name: "release",
  summary: "push, build, list, show and delete releases",
  usage: [
    "keel release push MANIFEST STREAM",
    BUILD_USAGE,
    "keel release list [APP]",
    "keel release show APP VERSION",
    "keel release delete APP VERSION",
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "push":
        return push(rest, io);
      case "build":
        return build(rest, io);
      case "list": {
        if (rest.length > 1) throw new CliError("usage: keel release list [APP]");
        const { apps } = await io.client().releases.list.query(rest[0] ? { app: rest[0] } : {});
        if (apps.length === 0) return io.out("no releases");
        const rows = [["APP", "VERSION", "KIND", "STREAM", "SIGNER", "CREATED", "HOSTS"]];
        for (const a of apps)
          for (const r of a.releases)
            rows.push([
              a.app,
              r.version,
              r.kind,
              bytes(r.streamBytes),
              r.signerKeyId,
              r.createdAt.toISOString(),
              `${r.hosts} (${r.currentOn} current)`,
            ]);
        for (const line of table(rows)) io.out(line);
        return;
      }
      case "show": {
        const [app, version] = rest;
        if (!app || !version || rest.length !== 2) throw new CliError("usage: keel release show APP VERSION");
        const d = await io.client().releases.show.query({ app, version });
        io.out(
          `${d.release.app} ${d.release.version} (${d.release.kind}), ${d.release.source === "build" ? "built here" : "pushed"}`,
        );
        io.out(
          `signed by ${d.release.signerName} (${d.release.signerKeyId}), created ${d.release.createdAt.toISOString()}`,
        );
        io.out(
          `tree: ${d.release.treeFiles} files, ${bytes(d.release.treeBytes)}; full stream ${bytes(d.release.streamBytes)}`,
        );
        io.out(`health check: ${d.healthCheck ? d.healthCheck.description : "none declared"}`);
        const requires = (d.manifest as { requires?: { runtime: string; versions: string }[] }).requires;
        if (requires) io.out(`requires: ${requires.map((r) => `${r.runtime} ${r.versions}`).join(", ")}`);
        io.out(
          `hosts: ${d.installedOn.map((h) => `${h.host}${h.isCurrent ? " (current)" : h.isPrevious ? " (previous)" : ""}`).join(", ") || "none"}`,
        );
        for (const x of d.deltas)
          io.out(
            `delta ${x.direction === "to" ? `${x.otherVersion} → ${d.release.version}` : `${d.release.version} → ${x.otherVersion}`}: ${bytes(x.streamBytes)} (wire ${bytes(x.wireBytes)})`,
          );
        io.out("manifest:");
        io.out(JSON.stringify(d.manifest, null, 2));
        return;
      }
      case "delete": {
        const [app, version] = rest;
        if (!app || !version || rest.length !== 2)
          throw new CliError("usage: keel release delete APP VERSION");
        const r = await io.client().releases.delete.mutate({ app, version });
        io.out(`deleted ${r.app} ${r.version} (${r.deletedArtifacts} stream file(s) freed)`);
        return;
      }
      default:
        throw new CliError(`usage:\n  ${releaseCommand.usage.join("\n  ")}`);
    }
  },
};
