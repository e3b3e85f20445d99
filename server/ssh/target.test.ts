import { describe, expect, it } from "vitest";
import { SshError } from "./errors";
import { forcedCommandLine } from "./forced";
import { resolveLimits, validateTarget, type SshTarget } from "./target";

const ok: SshTarget = {
  name: "web-1",
  address: "10.0.0.5",
  port: 22,
  user: "root",
  privateKey: "k",
  pinnedFingerprint: null,
};

describe("validateTarget", () => {
  it("accepts a normal target", () => {
    expect(() => validateTarget(ok)).not.toThrow();
    expect(() => validateTarget({ ...ok, address: "host-1.example.com", user: "keel_ops" })).not.toThrow();
  });

  it.each([
    ["address", { address: "$(reboot)" }],
    ["address", { address: "-oProxyCommand=sh" }],
    ["address", { address: "a;b" }],
    ["address", { address: "host\nevil" }],
    ["user", { user: "root;id" }],
    ["user", { user: "-l" }],
    ["user", { user: "$(id)" }],
    ["user", { user: "a\nb" }],
    ["port", { port: 0 }],
    ["port", { port: 70000 }],
    ["agent path", { agentPath: "relative/keel.mjs" }],
    ["agent path", { agentPath: "/usr/local/lib/../../etc/passwd" }],
    ["agent path", { agentPath: "/usr/local/lib/keel/x;rm -rf /" }],
    ["agent path", { agentPath: "/tmp/-rf" }],
    ["pinned fingerprint", { pinnedFingerprint: "abc" }],
  ])("rejects a bad %s", (field, patch) => {
    try {
      validateTarget({ ...ok, ...patch } as SshTarget);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SshError);
      expect((e as SshError).code).toBe("INVALID_TARGET");
      expect((e as SshError).details?.field).toBe(field);
      expect((e as SshError).message).toContain("web-1");
    }
  });

  it("clamps channels per connection to OpenSSH's MaxSessions default", () => {
    expect(resolveLimits({ maxChannelsPerConnection: 50 }).maxChannelsPerConnection).toBe(10);
    expect(resolveLimits({ maxChannelsPerConnection: 0 }).maxChannelsPerConnection).toBe(1);
  });
});

describe("forcedCommandLine", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3zQ6cCb1kEwLgvaVbG1T3t8nO8b5e0f2xZYQ8d4QhW keel-console";
  it("restricts the key to the agent gate", () => {
    expect(forcedCommandLine({ publicKey: key })).toBe(
      `command="/usr/bin/node /usr/local/lib/keel/keel-forced.mjs /usr/local/lib/keel/keel-agent.mjs",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,restrict ${key}`,
    );
  });
  it("refuses paths and keys that could break out of the option string", () => {
    expect(() => forcedCommandLine({ publicKey: key, agentPath: '/x" ,permitopen="*' })).toThrow(SshError);
    expect(() => forcedCommandLine({ publicKey: `${key}\nssh-ed25519 AAAA other` })).toThrow(SshError);
    expect(() => forcedCommandLine({ publicKey: 'ssh-ed25519 AAAA "x' })).toThrow(SshError);
    expect(() => forcedCommandLine({ publicKey: key, from: '10.0.0.0/8",command="sh' })).toThrow(SshError);
  });
});
