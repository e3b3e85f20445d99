import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprintOfKey, isFingerprint, keyTypeOfKey, sameFingerprint } from "./fingerprint";

describe("fingerprintOfKey", () => {
  it("matches what ssh-keygen -l prints for ed25519 and ecdsa keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "keel-fp-"));
    try {
      for (const type of ["ed25519", "ecdsa"]) {
        const f = join(dir, type);
        execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", f]);
        const blob = Buffer.from(readFileSync(`${f}.pub`, "utf8").split(" ")[1]!, "base64");
        const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${f}.pub`], {
          encoding: "utf8",
        }).split(" ")[1];
        expect(fingerprintOfKey(blob)).toBe(expected);
        expect(isFingerprint(fingerprintOfKey(blob))).toBe(true);
        expect(keyTypeOfKey(blob)).toBe(type === "ecdsa" ? "ecdsa-sha2-nistp256" : "ssh-ed25519");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects malformed fingerprints and compares exactly", () => {
    expect(isFingerprint("SHA256:abc")).toBe(false);
    expect(isFingerprint("MD5:aa:bb")).toBe(false);
    const a = "SHA256:" + "A".repeat(43);
    expect(isFingerprint(a)).toBe(true);
    expect(sameFingerprint(a, a)).toBe(true);
    expect(sameFingerprint(a, "SHA256:" + "B".repeat(43))).toBe(false);
  });
});
