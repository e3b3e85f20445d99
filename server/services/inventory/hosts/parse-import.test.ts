import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprintFromKnownHosts, parseHostsCsv, parseLabInventory, parseSshConfig } from "./parse-import";

const blob = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "base64");
const fp = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
const rsa = Buffer.from("AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7", "base64");

describe("bulk import parsers", () => {
  it("reads the lab inventory with fingerprints and tags hosts with the lab name", () => {
    const r = parseLabInventory(
      JSON.stringify({
        lab: "inv",
        hosts: [{ name: "inv-1", address: "10.0.0.2", port: 22, user: "root", hostKeyFingerprint: fp }],
      }),
    );
    expect(r.problems).toEqual([]);
    expect(r.entries).toEqual([
      { name: "inv-1", address: "10.0.0.2", port: 22, user: "root", fingerprint: fp, labels: { lab: "inv" } },
    ]);
    expect(parseLabInventory("{").problems[0]).toMatch(/not JSON/);
  });

  it("reads CSV with quoted fields, labels and defaults, and reports bad lines", () => {
    const r = parseHostsCsv(
      `Name,Address,Port,Labels,Env\nweb-1,10.0.0.5,2222,"role=web,tier=front",prod\ndb-1,10.0.0.6,,,\nbad,10.0.0.7,,broken,\n`,
    );
    expect(r.entries).toEqual([
      {
        name: "web-1",
        address: "10.0.0.5",
        port: 2222,
        user: "root",
        fingerprint: null,
        environment: "prod",
        labels: { role: "web", tier: "front" },
        sudoMode: "none",
      },
      {
        name: "db-1",
        address: "10.0.0.6",
        port: 22,
        user: "root",
        fingerprint: null,
        environment: null,
        labels: {},
        sudoMode: "none",
      },
    ]);
    expect(r.problems).toEqual(['line 4: label "broken" is not key=value']);
  });

  it("reads ssh_config Host blocks and takes fingerprints from plain and hashed known_hosts lines", () => {
    const salt = Buffer.from("0123456789abcdefghij");
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[10.0.0.9]:2200").digest("base64")}`;
    const known = [
      `10.0.0.8 ssh-rsa ${rsa.toString("base64")}`,
      `10.0.0.8,other ssh-ed25519 ${blob.toString("base64")}`,
      `${hashed} ssh-ed25519 ${blob.toString("base64")}`,
    ].join("\n");
    const cfg = `Host *\n  User nobody\nHost app-1\n  HostName 10.0.0.8\n  User admin\nHost app-2 # second\n  HostName=10.0.0.9\n  Port 2200\nHost unknown\n  HostName 10.0.0.10\n`;
    const r = parseSshConfig(cfg, known);
    expect(r.entries).toEqual([
      { name: "app-1", address: "10.0.0.8", port: 22, user: "admin", fingerprint: fp },
      { name: "app-2", address: "10.0.0.9", port: 2200, user: "root", fingerprint: fp },
      { name: "unknown", address: "10.0.0.10", port: 22, user: "root", fingerprint: null },
    ]);
    expect(fingerprintFromKnownHosts(known, "10.0.0.9", 22)).toBeNull();
  });
});
