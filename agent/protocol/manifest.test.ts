import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";
import { generateSigningKey, parsePrivateKey, parsePublicKey } from "./keys";
import {
  checkManifestSignature,
  formatManifest,
  runsAsRoot,
  signManifest,
  validateHealthCheck,
  validateManifest,
  type UnsignedManifest,
} from "./manifest";

const sha = (c: string) => c.repeat(64);

function unsigned(): Omit<UnsignedManifest, "signer"> {
  return {
    manifestVersion: 1,
    app: "web",
    version: "1.10",
    kind: "app",
    created: "2026-11-26T18:00:00Z",
    tree: { files: 3, bytes: 42, sha256: sha("a") },
    stream: {
      format: "btrfs-send",
      compression: "none",
      bytes: 100_000,
      sha256: sha("b"),
      chunkSize: 65536,
      chunks: [sha("c"), sha("d")],
      uuid: "af0956dc-782f-bd4d-946b-d5dd458335f1",
    },
    healthCheck: { type: "http", url: "http://127.0.0.1:8080/health", expectStatus: 200, timeoutMs: 5000 },
  };
}

describe("canonicalJson", () => {
  it("sorts keys and drops whitespace", () =>
    expect(canonicalJson({ b: 1, a: [true, null, "x"] })).toBe('{"a":[true,null,"x"],"b":1}'));
  it("refuses floats", () => expect(() => canonicalJson({ a: 1.5 })).toThrow(/safe integers/));
});

describe("manifest signatures", () => {
  const gen = generateSigningKey("test");
  const key = parsePrivateKey(gen.privateKeyPem);
  const pub = parsePublicKey(gen.publicKeyLine);

  it("derives the same key id from both halves", () => expect(pub.keyId).toBe(key.keyId));

  it("round-trips and verifies", () => {
    const m = signManifest(unsigned(), key);
    const again = validateManifest(JSON.parse(formatManifest(m)));
    expect(checkManifestSignature(again, [pub])).toMatchObject({ ok: true });
  });

  it("refuses a changed field", () => {
    const m = signManifest(unsigned(), key);
    const tampered = { ...m, version: "1.11" };
    expect(checkManifestSignature(tampered, [pub])).toMatchObject({ ok: false, code: "BAD_SIGNATURE" });
  });

  it("refuses an unknown signer", () => {
    const other = parsePublicKey(generateSigningKey().publicKeyLine);
    expect(checkManifestSignature(signManifest(unsigned(), key), [other])).toMatchObject({
      ok: false,
      code: "UNTRUSTED_KEY",
    });
  });

  it("refuses a valid signature moved onto another manifest", () => {
    const a = signManifest(unsigned(), key);
    const b = signManifest({ ...unsigned(), version: "1.9" }, key);
    expect(checkManifestSignature({ ...b, signature: a.signature }, [pub])).toMatchObject({
      ok: false,
      code: "BAD_SIGNATURE",
    });
  });
});

describe("validateManifest", () => {
  const key = parsePrivateKey(generateSigningKey().privateKeyPem);
  const good = () => JSON.parse(JSON.stringify(signManifest(unsigned(), key))) as Record<string, unknown>;
  it("accepts a good manifest", () => expect(validateManifest(good()).version).toBe("1.10"));
  it.each([
    ["extra field", (m: Record<string, unknown>) => (m.approvedBy = "me")],
    ["bad app", (m: Record<string, unknown>) => (m.app = "../etc")],
    ["bad version", (m: Record<string, unknown>) => (m.version = "-rf")],
    ["chunk count", (m: Record<string, unknown>) => (m.stream as { chunks: string[] }).chunks.pop()],
    [
      "compression",
      (m: Record<string, unknown>) => ((m.stream as { compression: string }).compression = "gzip"),
    ],
    ["missing uuid", (m: Record<string, unknown>) => delete (m.stream as { uuid?: string }).uuid],
    ["kind", (m: Record<string, unknown>) => (m.kind = "driver")],
    [
      "version 2 without metaSha256",
      (m: Record<string, unknown>) => (
        (m.manifestVersion = 2),
        delete (m.tree as { metaSha256?: string }).metaSha256
      ),
    ],
    [
      "version 1 with metaSha256",
      (m: Record<string, unknown>) => ((m.tree as { metaSha256?: string }).metaSha256 = sha("e")),
    ],
    ["version 3", (m: Record<string, unknown>) => (m.manifestVersion = 3)],
    [
      "version 1 declaring xattrs",
      (m: Record<string, unknown>) =>
        (m.special = { setuid: false, capabilities: false, devices: false, xattrs: ["security.selinux"] }),
    ],
  ])("refuses %s", (_n, mutate) => {
    const m = good();
    mutate(m);
    expect(() => validateManifest(m)).toThrow();
  });

  describe("manifestVersion 2 (digest over xattrs, metaSha256)", () => {
    const v2 = (special?: unknown) =>
      ({
        ...good(),
        manifestVersion: 2,
        tree: { files: 3, bytes: 42, sha256: sha("a"), metaSha256: sha("f") },
        ...(special ? { special } : {}),
      }) as Record<string, unknown>;
    it("accepts metaSha256 and declared privileged xattr names", () => {
      const m = validateManifest(
        v2({
          setuid: false,
          capabilities: true,
          devices: false,
          xattrs: ["security.selinux", "system.posix_acl_access", "trusted.overlay.opaque"],
        }),
      );
      expect(m.tree.metaSha256).toBe(sha("f"));
      expect(m.special?.xattrs).toHaveLength(3);
    });
    it.each([
      ["user.x"],
      ["security.capability\u0000"],
      ["system.nfs4_acl"],
      ["btrfs.compression"],
      ["security."],
      ["security.a b"],
    ])("refuses declaring %j", (name) => {
      expect(() =>
        validateManifest(v2({ setuid: false, capabilities: false, devices: false, xattrs: [name] })),
      ).toThrow(/special\.xattrs/);
    });
  });
});

describe("who a health check runs as", () => {
  const gen = generateSigningKey("test");
  const key = parsePrivateKey(gen.privateKeyPem);
  const pub = parsePublicKey(gen.publicKeyLine);
  const withCheck = (healthCheck: object) =>
    ({ ...unsigned(), healthCheck }) as Omit<UnsignedManifest, "signer">;
  const exec = { type: "exec", argv: ["/usr/bin/true"], timeoutMs: 1000 };

  it("keeps runAs through validation and the signature, and a manifest without it runs unprivileged", () => {
    for (const runAs of ["root", "unprivileged", undefined]) {
      const m = signManifest(withCheck(runAs ? { ...exec, runAs } : exec), key);
      const again = validateManifest(JSON.parse(formatManifest(m)));
      expect(again.healthCheck).toEqual(runAs ? { ...exec, runAs } : exec);
      expect(checkManifestSignature(again, [pub])).toMatchObject({ ok: true });
      expect(runsAsRoot(again.healthCheck)).toBe(runAs === "root");
    }
  });

  it("cannot be turned into root without breaking the signature", () => {
    const m = signManifest(withCheck(exec), key);
    const raised = validateManifest({ ...m, healthCheck: { ...exec, runAs: "root" } });
    expect(checkManifestSignature(raised, [pub])).toMatchObject({ ok: false, code: "BAD_SIGNATURE" });
  });

  it("refuses any other value, and runAs on an HTTP check (nothing runs there)", () => {
    expect(() => validateHealthCheck({ ...exec, runAs: "admin" })).toThrow(/healthCheck\.runAs/);
    expect(() => validateHealthCheck({ ...exec, runAs: 0 })).toThrow(/healthCheck\.runAs/);
    expect(() =>
      validateHealthCheck({ type: "http", url: "http://x/", expectStatus: 200, timeoutMs: 1, runAs: "root" }),
    ).toThrow(/runAs/);
  });
});
