// The compressed wire forms (decision 0030) on their own: what the console writes comes back as the
// exact bytes, and hostile input — a decompression bomb, a truncated block, a block over the limit,
// bytes after the end — is refused with the reason, having produced at most one declared block.
import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { brotliCompressSync, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  FRAME_JSON,
  FRAME_JSON_D,
  FRAME_JSON_Z,
  FrameDecoder,
  MAX_JSON_FRAME,
  encodeJsonFrame,
  encodeJsonFrameD,
  encodeJsonFrameZ,
} from "../framing";
import { JSON_D1_DICTIONARY } from "./json-d";
import { MIN_JSON_Z_BYTES } from "./json-z";
import { DELTA_MAGIC, parseHeader } from "../delta/format";
import { DELTA_C_MAGIC, compressDeltaHeader, expandDeltaHeader } from "./delta-header";
import { compactHeader, expandCompactHeader } from "./delta-compact";
import { WireError } from "./wire-reader";
import { BLOCK_RAW, MAX_BLOCK_RAW, ZBLOCKS_MAGIC, compressBlocks, decompressBlocks } from "./zblocks";

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}
async function* pieces(b: Buffer, size = 65536): AsyncGenerator<Buffer> {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}
const u32s = (...xs: number[]) => {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => b.writeUInt32BE(x, 4 * i));
  return b;
};
async function refusal(p: Promise<unknown>): Promise<WireError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WireError);
  return e as WireError;
}

describe("keel-z1", () => {
  const text = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `line ${i % 977}\n`).join(""));
  const stream = Buffer.concat([text, randomBytes(BLOCK_RAW), text]); // spans three blocks

  it("gives back the exact stream, smaller on the wire, for any piece size", async () => {
    const z = await collect(compressBlocks(pieces(stream, 100_001)));
    expect(z.length).toBeLessThan(stream.length - text.length);
    expect((await collect(decompressBlocks(pieces(z, 7)))).equals(stream)).toBe(true);
    expect(
      await collect(decompressBlocks(pieces(await collect(compressBlocks(pieces(Buffer.alloc(0))))))),
    ).toEqual(Buffer.alloc(0));
  });

  it("refuses a decompression bomb: a block that inflates past the size it declares", async () => {
    const bomb = brotliCompressSync(Buffer.alloc(MAX_BLOCK_RAW)); // 8 MiB of zeros in a few bytes
    const wire = Buffer.concat([ZBLOCKS_MAGIC, u32s(1024, bomb.length), bomb, u32s(0, 0)]);
    const e = await refusal(collect(decompressBlocks(pieces(wire))));
    expect(e.code).toBe("TOO_LARGE");
    expect(e.message).toMatch(/block 0 decompresses to more than the 1024 bytes it declares/);
  });

  it("refuses a block over the limit before reading it, and a truncated block", async () => {
    const over = Buffer.concat([ZBLOCKS_MAGIC, u32s(MAX_BLOCK_RAW + 1, 10)]);
    const e = await refusal(collect(decompressBlocks(pieces(over))));
    expect([e.code, e.message]).toEqual([
      "TOO_LARGE",
      expect.stringMatching(/declares 8388609 bytes, outside/),
    ]);
    const zOver = Buffer.concat([ZBLOCKS_MAGIC, u32s(1024, 64 * 1024 * 1024)]);
    expect((await refusal(collect(decompressBlocks(pieces(zOver))))).code).toBe("TOO_LARGE");
    const z = await collect(compressBlocks(pieces(stream)));
    const cut = await refusal(collect(decompressBlocks(pieces(z.subarray(0, 5000)))));
    expect([cut.code, cut.message]).toEqual([
      "TRUNCATED",
      expect.stringMatching(/keel-z1 stream ended early/),
    ]);
    const noEnd = await refusal(collect(decompressBlocks(pieces(z.subarray(0, z.length - 8)))));
    expect(noEnd.code).toBe("TRUNCATED");
  });

  it("refuses a damaged block, bytes after the end, and another format", async () => {
    const z = await collect(compressBlocks(pieces(text)));
    const bad = Buffer.from(z);
    bad[40]! ^= 0xff;
    expect(["CORRUPT", "TRUNCATED", "TOO_LARGE"]).toContain(
      (await refusal(collect(decompressBlocks(pieces(bad))))).code,
    );
    const after = await refusal(collect(decompressBlocks(pieces(Buffer.concat([z, Buffer.from("x")])))));
    expect([after.code, after.message]).toEqual(["CORRUPT", "keel-z1 stream has bytes after its end record"]);
    expect((await refusal(collect(decompressBlocks(pieces(text))))).code).toBe("UNSUPPORTED");
  });
});

describe("keel-delta-1z", () => {
  const header = Buffer.from(
    JSON.stringify({
      target: { bytes: 1, sha256: "0".repeat(64) },
      parent: {
        files: Array.from({ length: 500 }, (_, i) => ({
          path: `lib/f${i}.js`,
          bytes: i,
          sha256: "ab".repeat(32),
        })),
      },
    }),
  );
  const delta = Buffer.concat([DELTA_MAGIC, u32s(1, header.length), header, randomBytes(100_000)]);

  it("compresses the header alone and gives back the exact keel-delta-1 bytes", async () => {
    const z = await collect(compressDeltaHeader(pieces(delta, 999)));
    expect(z.length).toBeLessThan(delta.length - header.length / 2);
    expect((await collect(expandDeltaHeader(pieces(z, 13)))).equals(delta)).toBe(true);
  });

  it("refuses a header bomb and a header over the limit", async () => {
    const bomb = brotliCompressSync(Buffer.alloc(16 * 1024 * 1024, 0x20));
    const wire = Buffer.concat([Buffer.from("KEELDLTZ"), u32s(100, bomb.length), bomb]);
    expect((await refusal(collect(expandDeltaHeader(pieces(wire))))).code).toBe("TOO_LARGE");
    const over = Buffer.concat([Buffer.from("KEELDLTZ"), u32s(17 * 1024 * 1024, 10)]);
    expect((await refusal(collect(expandDeltaHeader(pieces(over))))).code).toBe("TOO_LARGE");
    expect((await refusal(collect(expandDeltaHeader(pieces(delta))))).code).toBe("UNSUPPORTED");
  });

  it("keel-delta-2 carries a format-2 delta under its own magic; neither form takes the other's", async () => {
    const d2 = Buffer.concat([DELTA_MAGIC, u32s(2, header.length), header, randomBytes(100_000)]);
    const z2 = await collect(compressDeltaHeader(pieces(d2, 999), 2));
    expect(z2.subarray(0, 8).toString()).toBe("KEELDLT2");
    expect((await collect(expandDeltaHeader(pieces(z2, 13), 2))).equals(d2)).toBe(true);
    // A format-2 delta is never sent as keel-delta-1z, nor a format-1 one as keel-delta-2 …
    expect((await refusal(collect(compressDeltaHeader(pieces(d2))))).code).toBe("UNSUPPORTED");
    expect((await refusal(collect(compressDeltaHeader(pieces(delta), 2)))).code).toBe("UNSUPPORTED");
    // … and a host that expands one form refuses the other's bytes.
    const z1 = await collect(compressDeltaHeader(pieces(delta)));
    expect((await refusal(collect(expandDeltaHeader(pieces(z2))))).code).toBe("UNSUPPORTED");
    expect((await refusal(collect(expandDeltaHeader(pieces(z1), 2)))).code).toBe("UNSUPPORTED");
  });
});

describe("keel-delta-c (decision 0044)", () => {
  const sha = (i: number) => createHash("sha256").update(`f${i}`).digest("hex");
  const files = Array.from({ length: 300 }, (_, i) => ({
    path: `lib/${i % 3 ? "a" : "bé"}/f${i}.js`,
    bytes: i * 1000,
    sha256: sha(i),
  }));
  const header = { target: { bytes: 123_456, sha256: sha(-1) }, parent: { files }, encoder: "e" };
  const json = Buffer.from(JSON.stringify(header));
  const body = randomBytes(10_000);
  const d2 = Buffer.concat([DELTA_MAGIC, u32s(2, json.length), json, body]);
  const wire2c = (compact: Buffer, zLen = 0) =>
    Buffer.concat([DELTA_C_MAGIC, u32s(compact.length, zLen), compact]);

  it("gives back the format-2 delta with the same body, parents named as before, their digests 64 bits", async () => {
    const z = await collect(compressDeltaHeader(pieces(d2, 999), "c"));
    expect(z.subarray(0, 8).toString()).toBe("KEELDLTC");
    const z2 = await collect(compressDeltaHeader(pieces(d2, 999), 2));
    expect(z.length - body.length).toBeLessThan((z2.length - body.length) / 2);
    const back = await collect(expandDeltaHeader(pieces(z, 13), "c"));
    expect(back.subarray(0, 12)).toEqual(Buffer.concat([DELTA_MAGIC, u32s(2)]));
    const len = back.readUInt32BE(12);
    expect(parseHeader(back.subarray(16, 16 + len).toString())).toEqual({
      ...header,
      parent: { files: files.map((f) => ({ ...f, sha256: f.sha256.slice(0, 16) })) },
      encoder: "keel-delta (keel-delta-c header)",
    });
    expect(back.subarray(16 + len).equals(body)).toBe(true);
    // A format-1 delta goes the same way and comes back as format 1.
    const d1 = Buffer.concat([DELTA_MAGIC, u32s(1, json.length), json, body]);
    const c1 = await collect(compressDeltaHeader(pieces(d1), "c"));
    expect((await collect(expandDeltaHeader(pieces(c1, 7), "c"))).subarray(0, 12)).toEqual(
      Buffer.concat([DELTA_MAGIC, u32s(1)]),
    );
    // Neither keel-delta-2 nor keel-delta-c takes the other's container; an unknown format is refused.
    const d3 = Buffer.concat([DELTA_MAGIC, u32s(3, json.length), json, body]);
    expect((await refusal(collect(compressDeltaHeader(pieces(d3), "c")))).code).toBe("UNSUPPORTED");
    const v3 = compactHeader(2, json);
    v3[0] = 3;
    expect((await refusal(collect(expandDeltaHeader(pieces(wire2c(v3)), "c")))).message).toMatch(
      /format version 3 is not known/,
    );
    expect((await refusal(collect(expandDeltaHeader(pieces(z), 2)))).code).toBe("UNSUPPORTED");
    expect((await refusal(collect(expandDeltaHeader(pieces(z2), "c")))).code).toBe("UNSUPPORTED");
  });

  it("carries a delta that copies from no parent file (all literals, e.g. a runtime's update)", async () => {
    const none = { target: { bytes: 77, sha256: sha(-2) }, parent: { files: [] }, encoder: "e" };
    const j = Buffer.from(JSON.stringify(none));
    const d = Buffer.concat([DELTA_MAGIC, u32s(2, j.length), j, body]);
    const back = await collect(
      expandDeltaHeader(pieces(await collect(compressDeltaHeader(pieces(d), "c"))), "c"),
    );
    const len = back.readUInt32BE(12);
    expect(parseHeader(back.subarray(16, 16 + len).toString())).toEqual({
      ...none,
      encoder: "keel-delta (keel-delta-c header)",
    });
    expect(back.subarray(16 + len).equals(body)).toBe(true);
  });

  it("refuses a compact header that lies: counts, shared prefixes, lengths, bytes after it, a bomb", async () => {
    const good = compactHeader(2, json);
    const pre = Buffer.concat([Buffer.from([2, 5]), Buffer.alloc(32)]); // format 2, target: 5 bytes, its digest
    const cases: [Buffer, string, RegExp][] = [
      [good.subarray(0, good.length - 3), "CORRUPT", /ends inside parent file 299's digest/],
      [Buffer.concat([good, Buffer.from([0])]), "CORRUPT", /1 bytes after the last parent file/],
      // 1,000,000 files in a few bytes
      [Buffer.concat([pre, Buffer.from([0xc0, 0x84, 0x3d])]), "CORRUPT", /do not fit/],
      // the first file keeps 5 bytes of a previous path it does not have
      [
        Buffer.concat([pre, Buffer.from([1, 5, 1, 0x61, 1]), Buffer.alloc(8)]),
        "CORRUPT",
        /keeps more of the previous path/,
      ],
    ];
    for (const [compact, code, message] of cases) {
      const e = await refusal(collect(expandDeltaHeader(pieces(wire2c(compact)), "c")));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    }
    const bomb = brotliCompressSync(Buffer.alloc(16 * 1024 * 1024));
    const e = await refusal(
      collect(expandDeltaHeader(pieces(Buffer.concat([DELTA_C_MAGIC, u32s(100, bomb.length), bomb])), "c")),
    );
    expect(e.code).toBe("TOO_LARGE");
    expect(() => expandCompactHeader(good, 1000)).toThrow(/expands past 1000 bytes/);
  });
});

describe("compressed JSON frames", () => {
  it("carry the same value; a frame that inflates past the JSON limit is a framing error", () => {
    const value = {
      id: "r1",
      args: { manifest: { chunks: Array.from({ length: 200 }, (_, i) => `chunk ${i}`) } },
    };
    const f = encodeJsonFrameZ(value);
    expect(f[0]).toBe(FRAME_JSON_Z);
    expect(new FrameDecoder().push(f)).toEqual([{ kind: "json", value, compressed: true }]);
    const bomb = brotliCompressSync(Buffer.alloc(MAX_JSON_FRAME + 1, 0x20));
    const frame = Buffer.concat([Buffer.from([FRAME_JSON_Z]), u32s(bomb.length), bomb]);
    expect(() => new FrameDecoder().push(frame)).toThrow(/inflates past 33554432 bytes/);
  });
  it("leave a short request as plain JSON, however well it would compress", () => {
    const value = { id: "r2", command: "facts", args: { pad: "a".repeat(600) } };
    const f = encodeJsonFrameZ(value);
    expect(f[0]).toBe(FRAME_JSON);
    expect(f.equals(encodeJsonFrame(value))).toBe(true);
    // Just past the limit the same kind of value is compressed.
    const long = { ...value, args: { pad: "a".repeat(MIN_JSON_Z_BYTES) } };
    expect(encodeJsonFrameZ(long)[0]).toBe(FRAME_JSON_Z);
    expect(new FrameDecoder().push(encodeJsonFrameZ(long))).toEqual([
      { kind: "json", value: long, compressed: true },
    ]);
  });
});

describe("JSON frames against the json-d1 dictionary (decision 0044)", () => {
  const manifest = {
    app: "semver",
    created: "2026-12-06T20:00:31Z",
    kind: "app",
    manifestVersion: 2,
    parent: { treeSha256: "1".repeat(64), uuid: "725963ec-06bf-fc4a-8747-8e0629c4e7a8", version: "7.6.2" },
    signature: "B".repeat(88),
    signer: "8dc1715467e34be3",
    stream: { bytes: 25533, chunkSize: 4194304, chunks: ["c".repeat(64)], compression: "none" },
    version: "7.6.3",
  };
  it("the dictionary never changes under its name (a new one is json-d2)", () => {
    expect(createHash("sha256").update(JSON_D1_DICTIONARY).digest("hex")).toBe(DICTIONARY_SHA256);
  });
  it("carry the same value, smaller than brotli on a receive request and a ready event", () => {
    const req = { protocolVersion: 1, id: "1", command: "receive", args: { manifest } };
    const ready = { protocolVersion: 1, id: "1", event: "ready" };
    for (const value of [req, ready]) {
      const f = encodeJsonFrameD(value);
      expect(f[0]).toBe(FRAME_JSON_D);
      expect(new FrameDecoder().push(f)).toEqual([{ kind: "json", value, compressed: "json-d1" }]);
      expect(f.length).toBeLessThan(Math.min(encodeJsonFrameZ(value).length, encodeJsonFrame(value).length));
    }
    expect(encodeJsonFrameD(ready).length).toBeLessThan(20);
  });
  it("fall back to the smaller form: plain JSON when nothing is gained, brotli past 64 KiB", () => {
    const tiny = { a: 1 };
    expect(encodeJsonFrameD(tiny).equals(encodeJsonFrame(tiny))).toBe(true);
    const big = { rows: Array.from({ length: 5000 }, (_, i) => `row ${i % 97}`) };
    expect(encodeJsonFrameD(big)[0]).toBe(FRAME_JSON_Z);
  });
  it("a frame that inflates past the JSON limit, or is not deflate against the dictionary, is a framing error", () => {
    const bomb = deflateRawSync(Buffer.alloc(MAX_JSON_FRAME + 1, 0x20), { dictionary: JSON_D1_DICTIONARY });
    const frame = Buffer.concat([Buffer.from([FRAME_JSON_D]), u32s(bomb.length), bomb]);
    expect(() => new FrameDecoder().push(frame)).toThrow(/inflates past 33554432 bytes/);
    const junk = Buffer.concat([Buffer.from([FRAME_JSON_D]), u32s(4), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    expect(() => new FrameDecoder().push(junk)).toThrow(/does not decompress/);
  });
});

const DICTIONARY_SHA256 = "db1026ff12b79d78fadd3ee4ccbb67c1159af020e3479ccbe2adeeae8f104f62";
