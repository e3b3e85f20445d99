import { describe, expect, it } from "vitest";
import {
  FrameDecoder,
  FramingError,
  encodeDataFrames,
  encodeEndFrame,
  encodeJsonFrame,
  MAX_DATA_FRAME,
} from "./framing";

describe("serve framing", () => {
  it("decodes frames however the input is split", () => {
    const data = Buffer.alloc(MAX_DATA_FRAME + 10, 7);
    const wire = Buffer.concat([encodeJsonFrame({ a: 1 }), ...encodeDataFrames(data), encodeEndFrame()]);
    for (const step of [7, 4096, wire.length]) {
      const d = new FrameDecoder();
      const frames = [];
      for (let i = 0; i < wire.length; i += step) frames.push(...d.push(wire.subarray(i, i + step)));
      expect(frames.map((f) => f.kind)).toEqual(["json", "data", "data", "end"]);
      expect(Buffer.concat(frames.flatMap((f) => (f.kind === "data" ? [f.data] : []))).equals(data)).toBe(
        true,
      );
      expect(d.pending).toBe(0);
    }
  });
  it("refuses unknown kinds and oversized frames", () => {
    expect(() => new FrameDecoder().push(Buffer.from([0x58, 0, 0, 0, 0]))).toThrow(FramingError);
    expect(() => new FrameDecoder().push(Buffer.from([0x44, 0xff, 0, 0, 0]))).toThrow(/DATA frame/);
    expect(() => new FrameDecoder().push(Buffer.from([0x4a, 0, 0, 0, 1, 0x7b]))).toThrow(/valid JSON/);
  });
});
