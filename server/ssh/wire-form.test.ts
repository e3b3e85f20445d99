// What the console sends for a stored stream or delta (decision 0030): the compressed form only to
// an agent whose hello lists it, made once beside the blob and reused, and inflating back to the
// stored bytes exactly; to an older agent, the stored file as it is. A delta's format-2 encoding
// (decision 0040) goes as keel-delta-2 only to an agent whose hello lists it.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { ReleaseManifest } from "@/agent/protocol";
import { DELTA_MAGIC } from "@/agent/protocol/delta/format";
import * as deltaHeader from "@/agent/protocol/wire/delta-header";
import { expandDeltaHeader } from "@/agent/protocol/wire/delta-header";
import * as zblocks from "@/agent/protocol/wire/zblocks";
import { decompressBlocks } from "@/agent/protocol/wire/zblocks";
import { wireForm } from "./wire-form";

vi.mock("@/agent/protocol/wire/zblocks", async (actual) => {
  const real = await actual<typeof zblocks>();
  return { ...real, compressBlocks: vi.fn(real.compressBlocks) };
});

vi.mock("@/agent/protocol/wire/delta-header", async (actual) => {
  const real = await actual<typeof deltaHeader>();
  return { ...real, compressDeltaHeader: vi.fn(real.compressDeltaHeader) };
});

const dir = mkdtempSync(join(tmpdir(), "keel-wire-form-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const manifest = {} as ReleaseManifest;
const ALL = ["keel-z1", "keel-delta-1z", "json-z"];

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

describe("wireForm", () => {
  const stream = Buffer.concat([Buffer.from("x".repeat(3_000_000)), randomBytes(300_000)]);
  const path = join(dir, "blob");
  writeFileSync(path, stream);

  it("sends a raw stream as keel-z1 to an agent that lists it, compressed once and reused", async () => {
    const a = await wireForm(ALL, { manifest }, path);
    expect(a.args.wireEncoding).toBe("keel-z1");
    expect(statSync(a.path!).size).toBeLessThan(stream.length / 5);
    expect((await collect(decompressBlocks(Readable.from([readFileSync(a.path!)])))).equals(stream)).toBe(
      true,
    );
    const mtime = statSync(a.path!).mtimeMs;
    const b = await wireForm(ALL, { manifest, wireEncoding: "raw" }, path);
    expect([b.path, statSync(b.path!).mtimeMs]).toEqual([a.path, mtime]);
    expect(readdirSync(join(dir, ".wire")).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("compresses a stream once when many hosts ask for it at the same moment", async () => {
    const many = join(dir, "many");
    writeFileSync(many, stream);
    vi.mocked(zblocks.compressBlocks).mockClear();
    const sends = await Promise.all(Array.from({ length: 20 }, () => wireForm(ALL, { manifest }, many)));
    expect(vi.mocked(zblocks.compressBlocks)).toHaveBeenCalledTimes(1);
    expect(new Set(sends.map((s) => s.path)).size).toBe(1);
    expect(sends.every((s) => s.args.wireEncoding === "keel-z1")).toBe(true);
  });

  it("sends a delta with its header compressed; an older agent gets the stored file unchanged", async () => {
    const header = Buffer.from(JSON.stringify({ parent: { files: Array(300).fill({ path: "lib/a.js" }) } }));
    const len = Buffer.alloc(8);
    len.writeUInt32BE(1, 0);
    len.writeUInt32BE(header.length, 4);
    const delta = Buffer.concat([DELTA_MAGIC, len, header, randomBytes(1000)]);
    const dpath = join(dir, "delta");
    writeFileSync(dpath, delta);
    const a = await wireForm(ALL, { manifest, wireEncoding: "keel-delta-1" }, dpath);
    expect(a.args.wireEncoding).toBe("keel-delta-1z");
    expect((await collect(expandDeltaHeader(Readable.from([readFileSync(a.path!)])))).equals(delta)).toBe(
      true,
    );
    expect(await wireForm([], { manifest, wireEncoding: "keel-delta-1" }, dpath)).toEqual({
      args: { manifest, wireEncoding: "keel-delta-1" },
      path: dpath,
    });
    expect(await wireForm(["json-z"], { manifest }, path)).toEqual({ args: { manifest }, path });
  });

  /** A stored delta of format `version`: magic, version, JSON header, body. */
  function storedDelta(name: string, version: 1 | 2): { path: string; bytes: Buffer } {
    const header = Buffer.from(
      JSON.stringify({ parent: { files: Array(300).fill({ path: `lib/${name}.js` }) } }),
    );
    const len = Buffer.alloc(8);
    len.writeUInt32BE(version, 0);
    len.writeUInt32BE(header.length, 4);
    const bytes = Buffer.concat([DELTA_MAGIC, len, header, randomBytes(1000)]);
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return { path, bytes };
  }

  it("sends the format-2 delta as keel-delta-2 to an agent that lists it, compressed once for many hosts", async () => {
    const d1 = storedDelta("d1", 1);
    const d2 = storedDelta("d2", 2);
    const format2 = vi.fn(async () => d2.path);
    vi.mocked(deltaHeader.compressDeltaHeader).mockClear();
    const sends = await Promise.all(
      Array.from({ length: 10 }, () =>
        wireForm(
          [...ALL, "keel-delta-2"],
          { manifest, wireEncoding: "keel-delta-1" },
          { path: d1.path, format2 },
        ),
      ),
    );
    expect(vi.mocked(deltaHeader.compressDeltaHeader)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(deltaHeader.compressDeltaHeader).mock.calls[0]![1]).toBe(2);
    expect(new Set(sends.map((s) => s.path)).size).toBe(1);
    expect(sends.every((s) => s.args.wireEncoding === "keel-delta-2")).toBe(true);
    const sent = readFileSync(sends[0]!.path!);
    expect(sent.subarray(0, 8).toString("latin1")).toBe("KEELDLT2");
    expect((await collect(expandDeltaHeader(Readable.from([sent]), 2))).equals(d2.bytes)).toBe(true);
  });

  it("sends a delta as keel-delta-c to an agent that lists it: the header compact, the body as stored", async () => {
    const hex = (i: number) => createHash("sha256").update(String(i)).digest("hex");
    const files = Array.from({ length: 50 }, (_, i) => ({
      path: `node_modules/pkg/lib/file-${i}.js`,
      bytes: 1000 + i,
      sha256: hex(i),
    }));
    const header = Buffer.from(
      JSON.stringify({ target: { bytes: 12345, sha256: hex(-1) }, parent: { files }, encoder: "x" }),
    );
    const body = randomBytes(1000);
    const valid = (name: string, version: 1 | 2) => {
      const len = Buffer.alloc(8);
      len.writeUInt32BE(version, 0);
      len.writeUInt32BE(header.length, 4);
      writeFileSync(join(dir, name), Buffer.concat([DELTA_MAGIC, len, header, body]));
      return join(dir, name);
    };
    const d1 = valid("c1", 1);
    const d2 = valid("c2", 2);
    const accepts = [...ALL, "keel-delta-2", "keel-delta-c"];
    const args = { manifest, wireEncoding: "keel-delta-1" } as const;
    // The format-2 delta when there is one to send, else the format-1 one: each comes back as itself.
    for (const [format2, version] of [
      [async () => d2, 2],
      [async () => null, 1],
      [undefined, 1],
    ] as const) {
      const a = await wireForm(accepts, args, { path: d1, format2 });
      expect(a.args.wireEncoding).toBe("keel-delta-c");
      const sent = readFileSync(a.path!);
      expect(sent.subarray(0, 8).toString("latin1")).toBe("KEELDLTC");
      expect(sent.length).toBeLessThan(header.length / 3 + body.length);
      const back = await collect(expandDeltaHeader(Readable.from([sent]), "c"));
      expect(back.readUInt32BE(8)).toBe(version);
      const got = JSON.parse(back.subarray(16, 16 + back.readUInt32BE(12)).toString()) as {
        target: unknown;
        parent: { files: typeof files };
      };
      expect(got.target).toEqual({ bytes: 12345, sha256: hex(-1) });
      expect(got.parent.files).toEqual(files.map((f) => ({ ...f, sha256: f.sha256.slice(0, 16) })));
      expect(back.subarray(16 + back.readUInt32BE(12)).equals(body)).toBe(true);
    }
  });

  it("never sends format 2 to an agent whose hello does not list keel-delta-2", async () => {
    const d1 = storedDelta("e1", 1);
    const d2 = storedDelta("e2", 2);
    const format2 = vi.fn(async () => d2.path);
    const a = await wireForm(ALL, { manifest, wireEncoding: "keel-delta-1" }, { path: d1.path, format2 });
    expect(a.args.wireEncoding).toBe("keel-delta-1z");
    expect((await collect(expandDeltaHeader(Readable.from([readFileSync(a.path!)])))).equals(d1.bytes)).toBe(
      true,
    );
    expect(
      await wireForm([], { manifest, wireEncoding: "keel-delta-1" }, { path: d1.path, format2 }),
    ).toEqual({
      args: { manifest, wireEncoding: "keel-delta-1" },
      path: d1.path,
    });
    expect(format2).not.toHaveBeenCalled();
    // A full stream is never swapped for a delta, whatever the agent lists.
    const full = await wireForm([...ALL, "keel-delta-2"], { manifest }, { path, format2 });
    expect(full.args.wireEncoding).toBe("keel-z1");
    expect(format2).not.toHaveBeenCalled();
  });

  it("sends the format-1 delta when the row has no format 2 or its file is not as recorded", async () => {
    const d1 = storedDelta("f1", 1);
    const accepts = [...ALL, "keel-delta-2"];
    const args = { manifest, wireEncoding: "keel-delta-1" as const };
    expect((await wireForm(accepts, args, d1.path)).args.wireEncoding).toBe("keel-delta-1z");
    expect((await wireForm(accepts, args, { path: d1.path })).args.wireEncoding).toBe("keel-delta-1z");
    const gone = await wireForm(accepts, args, { path: d1.path, format2: async () => null });
    expect(gone.args.wireEncoding).toBe("keel-delta-1z");
    expect(
      (await collect(expandDeltaHeader(Readable.from([readFileSync(gone.path!)])))).equals(d1.bytes),
    ).toBe(true);
  });
});
