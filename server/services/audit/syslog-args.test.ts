import { describe, expect, it } from "vitest";
import { parseEnv } from "@/server/env";
import { syslogArgs } from "./start-audit-checkpointer";

describe("KEEL_AUDIT_SYSLOG", () => {
  it("turns into logger's target arguments", () => {
    expect(syslogArgs(undefined)).toBeNull();
    expect(syslogArgs("0")).toBeNull();
    expect(syslogArgs("false")).toBeNull();
    expect(syslogArgs("local")).toEqual([]);
    expect(syslogArgs("1")).toEqual([]);
    expect(syslogArgs("udp://logs.example:514")).toEqual(["-n", "logs.example", "-P", "514", "-d"]);
    expect(syslogArgs("tcp://[2001:db8::1]:6514")).toEqual(["-n", "2001:db8::1", "-P", "6514", "-T"]);
  });
  it("refuses what logger could not use, naming the variable", () => {
    for (const bad of ["yes", "udp://host", "http://logs:514", "udp://a b:514", "tcp://host:514/x"])
      expect(() => parseEnv({ KEEL_AUDIT_SYSLOG: bad }), bad).toThrow(
        /KEEL_AUDIT_SYSLOG: must be local, udp:\/\/host:port or tcp:\/\/host:port/,
      );
  });
});
