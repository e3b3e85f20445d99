import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSecretBox, SECRET_FILE } from "./secret-box";

describe("secret box", () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "keel-box-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("round-trips with KEEL_SECRET and hides the plaintext", () => {
    const box = createSecretBox({ secret: "x".repeat(40), dataDir: dir() });
    const sealed = box.seal(Buffer.from("PRIVATE KEY PEM"), "0123456789abcdef");
    expect(sealed.includes(Buffer.from("PRIVATE"))).toBe(false);
    expect(box.open(sealed, "0123456789abcdef").toString()).toBe("PRIVATE KEY PEM");
  });

  it("refuses another secret, another key id, or a flipped bit", () => {
    const d = dir();
    const box = createSecretBox({ secret: "x".repeat(40), dataDir: d });
    const sealed = box.seal(Buffer.from("secret"), "0123456789abcdef");
    expect(() =>
      createSecretBox({ secret: "y".repeat(40), dataDir: d }).open(sealed, "0123456789abcdef"),
    ).toThrow(/cannot be decrypted/);
    expect(() => box.open(sealed, "fedcba9876543210")).toThrow(/cannot be decrypted/);
    const flipped = Buffer.from(sealed);
    flipped[20]! ^= 1;
    expect(() => box.open(flipped, "0123456789abcdef")).toThrow(/cannot be decrypted/);
  });

  it("without KEEL_SECRET creates a private key file once and keeps using it", () => {
    const d = dir();
    const a = createSecretBox({ dataDir: d });
    expect(a.source).toBe("key file");
    expect(statSync(join(d, SECRET_FILE)).mode & 0o777).toBe(0o600);
    const sealed = a.seal(Buffer.from("k"), "0123456789abcdef");
    expect(createSecretBox({ dataDir: d }).open(sealed, "0123456789abcdef").toString()).toBe("k");
  });
});
