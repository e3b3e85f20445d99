// Stand-alone decoder entry (bundled by tests and bench/delta.ts into one .mjs, run with plain node):
//   node decode-cli.mjs PARENT_DIR OUT_FILE < delta
// Prints one JSON line: {bytes, sha256, ms, cpuMs, peakRssKiB} or {error, message} (exit 2).
import { readFileSync, createWriteStream } from "node:fs";
import { once } from "node:events";
import { decodeDelta, DeltaError } from "./decode";

function peakRssKiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : -1;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
}

async function main(): Promise<void> {
  const [parentDir, outFile] = process.argv.slice(2);
  if (!parentDir || !outFile) throw new Error("usage: decode-cli PARENT_DIR OUT_FILE < delta");
  const started = performance.now();
  const output = createWriteStream(outFile);
  try {
    const r = await decodeDelta({ parentDir, input: process.stdin, output });
    output.end();
    await once(output, "close");
    process.stdout.write(
      JSON.stringify({
        ...r,
        ms: Math.round(performance.now() - started),
        cpuMs: cpuMs(),
        peakRssKiB: peakRssKiB(),
      }) + "\n",
    );
  } catch (e) {
    output.destroy();
    if (!(e instanceof DeltaError)) throw e;
    process.stdout.write(JSON.stringify({ error: e.code, message: e.message }) + "\n");
    process.exitCode = 2;
  }
}

void main();
