import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { forgetWireBytes, wireBytes } from "./wire-bytes";

const dir = mkdtempSync(join(tmpdir(), "keel-wire-bytes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => forgetWireBytes());

async function read(path: string, chunk = 1000): Promise<{ data: Buffer; pieces: number[] }> {
  const pieces: Buffer[] = [];
  for await (const p of await wireBytes(path, chunk)) pieces.push(Buffer.from(p as Buffer));
  return { data: Buffer.concat(pieces), pieces: pieces.map((p) => p.length) };
}

/** A whole second, so that setting it again gives the file exactly the same modification time. */
const T = Math.floor(Date.now() / 1000) - 60;

function put(path: string, data: Buffer, at = T) {
  writeFileSync(path, data);
  utimesSync(path, at, at);
}

/** Rewrites a file in place with the same size and modification time (what a stored blob never does). */
const rewriteUnseen = (path: string, data: Buffer) => put(path, data);

describe("wireBytes (the bytes a receive sends)", () => {
  it("reads a small file once and sends every host the same bytes, in pieces of the asked size", async () => {
    const path = join(dir, "delta");
    put(path, Buffer.alloc(2500, 7));
    const first = await read(path);
    expect(first.pieces).toEqual([1000, 1000, 500]);
    expect(first.data.equals(Buffer.alloc(2500, 7))).toBe(true);
    // The second host's send does not read the file again: an unseen rewrite is not noticed.
    rewriteUnseen(path, Buffer.alloc(2500, 9));
    expect((await read(path)).data.equals(Buffer.alloc(2500, 7))).toBe(true);
    // A new version of the file (another size or time) is read again.
    utimesSync(path, T + 1, T + 1);
    expect((await read(path)).data.equals(Buffer.alloc(2500, 9))).toBe(true);
  });

  it("reads a file once for hosts that send it at the same moment", async () => {
    const path = join(dir, "shared");
    put(path, Buffer.alloc(3000, 1));
    const all = await Promise.all(Array.from({ length: 10 }, () => read(path)));
    for (const r of all) expect(r.data.equals(Buffer.alloc(3000, 1))).toBe(true);
    rewriteUnseen(path, Buffer.alloc(3000, 2));
    expect((await read(path)).data[0]).toBe(1);
  });

  it("streams a file over 8 MiB from disk each time", async () => {
    const path = join(dir, "large");
    put(path, Buffer.alloc(8 * 1024 * 1024 + 1, 3));
    expect((await read(path, 1024 * 1024)).pieces.length).toBe(9);
    rewriteUnseen(path, Buffer.alloc(8 * 1024 * 1024 + 1, 4));
    const again = await read(path, 1024 * 1024);
    expect(again.data[0]).toBe(4);
    expect(again.data.length).toBe(8 * 1024 * 1024 + 1);
  });
});
