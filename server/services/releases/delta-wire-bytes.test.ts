import { describe, expect, it } from "vitest";
import { deltaWireBytes } from "./produce-delta";

const row = (stream: number, enc1: number | null, enc2: number | null) => ({
  streamBytes: BigInt(stream),
  encodedBytes: enc1 === null ? null : BigInt(enc1),
  encoded2Bytes: enc2 === null ? null : BigInt(enc2),
});

describe("deltaWireBytes (what a plan and the release page say a delta costs on the wire)", () => {
  it("is the format-2 delta where it is the smaller: what a current agent receives", () => {
    expect(deltaWireBytes(row(9_000_000, 200_000, 94_000))).toBe(94_000);
  });
  it("is the format-1 delta where format 2 is not smaller (the console then sends format 1)", () => {
    expect(deltaWireBytes(row(25_000, 1_200, 1_211))).toBe(1_200);
    expect(deltaWireBytes(row(25_000, 1_200, null))).toBe(1_200);
  });
  it("is the raw incremental stream when the console holds no encoding", () => {
    expect(deltaWireBytes(row(25_000, null, null))).toBe(25_000);
  });
});
