// `keel release build … --health-cmd/--health-url` against the console's real upload handler on a
// btrfs data directory (loop image) and a real database: the health check ends up in every signed
// manifest of the build (full and incremental), and bad checks are refused with clear messages
// before anything is built.
import { describe, expect, it } from "vitest";
import { useBuildConsole } from "@/server/test/build-console";

describe("keel release build with a health check", () => {
  const { c, keel, tree, verified } = useBuildConsole("keel-build-hc-");

  it("records an argv health check in the signed manifest", async () => {
    const argv = ["/usr/bin/test", "-f", "/srv/app ready; $(rm -rf /)"];
    const r = await keel(
      "release",
      "build",
      tree("1.0"),
      "--app",
      "web",
      "--version",
      "1.0",
      "--health-cmd",
      JSON.stringify(argv),
      "--health-timeout",
      "5s",
    );
    expect(r.err).toBe("");
    expect(r.out).toContain(
      `health check: runs ${JSON.stringify(argv)} as the unprivileged user keel-check (timeout 5 s)`,
    );
    const row = await c.db.release.findUniqueOrThrow({
      where: { app_version: { app: "web", version: "1.0" } },
    });
    // The argument with spaces, ; and $( ) is one argv element, exactly as given: no shell parsed it.
    expect((await verified(row.manifest)).healthCheck).toEqual({ type: "exec", argv, timeoutMs: 5000 });
    const audit = await c.db.auditEvent.findFirstOrThrow({
      where: { action: "release.build", target: "release:web@1.0" },
    });
    expect(audit.detail).toMatchObject({
      healthCheck: `runs ${JSON.stringify(argv)} as the unprivileged user keel-check (timeout 5 s)`,
    });
    expect((await keel("release", "show", "web", "1.0")).out).toContain('"healthCheck": {');
  });

  it("--health-check-as-root signs runAs root into the full and incremental manifests, and the release says so", async () => {
    // Another app, so that web's versions keep their parents.
    expect((await keel("release", "build", tree("r1.0"), "--app", "rooted", "--version", "1.0")).err).toBe(
      "",
    );
    const argv = ["/usr/bin/test", "-r", "/etc/shadow"];
    const r = await keel(
      "release",
      "build",
      tree("r1.1"),
      "--app",
      "rooted",
      "--version",
      "1.1",
      "--health-cmd",
      JSON.stringify(argv),
      "--health-check-as-root",
    );
    expect(r.err).toBe("");
    expect(r.out).toContain(`health check: runs ${JSON.stringify(argv)} AS ROOT (timeout 30 s)`);
    const row = await c.db.release.findUniqueOrThrow({
      where: { app_version: { app: "rooted", version: "1.1" } },
      include: { deltasTo: true },
    });
    expect((await verified(row.manifest)).healthCheck).toEqual({
      type: "exec",
      argv,
      timeoutMs: 30_000,
      runAs: "root",
    });
    expect(row.deltasTo).toHaveLength(1);
    expect((await verified(row.deltasTo[0]!.manifest)).healthCheck).toEqual({
      type: "exec",
      argv,
      timeoutMs: 30_000,
      runAs: "root",
    });
    expect((await keel("release", "show", "rooted", "1.1")).out).toContain(
      `health check: runs ${JSON.stringify(argv)} AS ROOT`,
    );
    expect((await keel("release", "show", "rooted", "1.0")).out).toContain("health check: none declared");
    expect((await keel("release", "show", "web", "1.0")).out).toContain(
      "as the unprivileged user keel-check",
    );
    const http = await keel(
      "release",
      "build",
      tree("r1.2"),
      "--app",
      "rooted",
      "--version",
      "1.2",
      "--health-url",
      "http://127.0.0.1/",
      "--health-check-as-root",
    );
    expect(http.err).toMatch(/--health-check-as-root goes with --health-cmd/);
  });

  it("records an HTTP health check in the full and the incremental manifest", async () => {
    const r = await keel(
      "release",
      "build",
      tree("2.0"),
      "--app",
      "web",
      "--version",
      "2.0",
      "--health-url",
      "http://127.0.0.1:8080/health",
      "--health-status",
      "204",
    );
    expect(r.err).toBe("");
    expect(r.out).toMatch(/incremental stream from 1\.0/);
    const want = { type: "http", url: "http://127.0.0.1:8080/health", expectStatus: 204, timeoutMs: 30_000 };
    const row = await c.db.release.findUniqueOrThrow({
      where: { app_version: { app: "web", version: "2.0" } },
      include: { deltasTo: true },
    });
    expect((await verified(row.manifest)).healthCheck).toEqual(want);
    expect(row.deltasTo).toHaveLength(1);
    const inc = await verified(row.deltasTo[0]!.manifest);
    expect(inc.parent?.version).toBe("1.0");
    expect(inc.healthCheck).toEqual(want);
  });

  it("a build without health check flags has none", async () => {
    expect((await keel("release", "build", tree("2.1"), "--app", "web", "--version", "2.1")).err).toBe("");
    const row = await c.db.release.findUniqueOrThrow({
      where: { app_version: { app: "web", version: "2.1" } },
    });
    expect((await verified(row.manifest)).healthCheck).toBeUndefined();
  });

  it("refuses bad health checks before building, saying what is wrong", async () => {
    const t = tree("3.0");
    const build = (...flags: string[]) =>
      keel("release", "build", t, "--app", "web", "--version", "3.0", ...flags);
    expect((await build("--health-cmd", "curl -fsS http://127.0.0.1/health")).err).toMatch(
      /--health-cmd takes the command as a JSON array of arguments \(no shell\)/,
    );
    expect((await build("--health-cmd", '["curl -fsS http://127.0.0.1/health"]')).err).toMatch(
      /not as a shell string/,
    );
    expect((await build("--health-cmd", "[]")).err).toMatch(/needs at least the program/);
    expect((await build("--health-url", "ftp://x/")).err).toMatch(/must be http:\/\/ or https:\/\//);
    expect((await build("--health-cmd", '["/bin/true"]', "--health-timeout", "2h")).err).toMatch(
      /give a duration/,
    );

    // The console checks too (a script or the build form may send anything), and reads the whole
    // upload before answering, so the client sees the message rather than a closed connection.
    const upload = async (healthCheck: string) => {
      const q = new URLSearchParams({
        mode: "build",
        app: "web",
        version: "3.0",
        format: "tar",
        healthCheck,
      });
      const res = await fetch(`${c.base}/api/releases/upload?${q}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", authorization: `Bearer ${c.token}` },
        body: Buffer.alloc(2 << 20, 1),
      });
      return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
    };
    expect(await upload(JSON.stringify({ type: "exec", argv: ["sh -c 'curl x'"] }))).toMatchObject({
      status: 400,
      body: {
        error: { message: expect.stringMatching(/^health check: the program .* contains white space/) },
      },
    });
    expect(await upload(JSON.stringify({ type: "http", url: "http://h/", expectStatus: 700 }))).toMatchObject(
      {
        status: 400,
        body: { error: { message: "health check: the expected status must be an HTTP status (100–599)" } },
      },
    );
    expect(await upload("{not json")).toMatchObject({
      status: 400,
      body: { error: { message: "health check: the healthCheck parameter must be JSON" } },
    });
    expect(await c.db.release.count({ where: { app: "web", version: "3.0" } })).toBe(0);
  });
});
