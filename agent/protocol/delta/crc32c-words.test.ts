import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32cWords, wordBuffer } from "./crc32c-words";
import { crc32c } from "./format";

describe("crc32cWords", () => {
  const buf = Buffer.allocUnsafeSlow(1 << 16);
  randomBytes(buf.length).copy(buf);
  const wb = wordBuffer(buf);

  it("matches the byte-wise CRC-32C at every alignment and length, seeded or not", () => {
    for (let start = 0; start < 8; start++)
      for (const len of [0, 1, 7, 63, 64, 65, 79, 80, 1000, 4097, 60000])
        for (const seed of [0, 0x12345678]) {
          expect(crc32cWords(wb, start, start + len, seed)).toBe(crc32c(buf, start, start + len, seed));
        }
  });

  it("gives the known CRC-32C check value (seed ~0, final inversion: 0xe3069283 for 123456789)", () => {
    const s = Buffer.allocUnsafeSlow(128);
    s.fill(0x31);
    Buffer.from("123456789").copy(s, 0);
    // 9 bytes take the byte-wise path; the same digits repeated exercise the word path.
    expect((crc32cWords(wordBuffer(s), 0, 9, 0xffffffff) ^ 0xffffffff) >>> 0).toBe(0xe3069283);
    const long = Buffer.allocUnsafeSlow(9 * 16);
    for (let i = 0; i < 16; i++) Buffer.from("123456789").copy(long, 9 * i);
    expect(crc32cWords(wordBuffer(long), 0, long.length)).toBe(crc32c(long));
  });

  it("falls back to bytes for a buffer that does not start on a word boundary", () => {
    const odd = buf.subarray(1);
    const w = wordBuffer(odd);
    expect(w.words).toBeNull();
    expect(crc32cWords(w, 0, 5000)).toBe(crc32c(odd, 0, 5000));
  });
});
