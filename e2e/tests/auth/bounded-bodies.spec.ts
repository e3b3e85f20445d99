import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { request as playwrightRequest } from "@playwright/test";
import { admin, apiSignIn, consoleUrl, expect, test, trpcMutation, uniqueEmail } from "@/e2e/fixtures/test";

// RELIABILITY case 32 against the console `npm start` runs (Keel's HTTP server in front of Next):
// bodies without a length are refused at their route's limit, the console process's memory stays
// flat (its RSS read from /proc/<pid>/status), and an anonymous upload is answered without its
// body being read (the bytes the console process read, /proc/<pid>/io rchar, grow by far less
// than the upload). server/auth/bounded-body-http.int.test.ts counts the bytes per connection.

/** The pid of the process listening on the console's port. */
function consolePid(): number {
  const port = new URL(consoleUrl()).port;
  const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process listens on port ${port}: ${out}`);
  return Number(m[1]);
}
const proc = (pid: number, file: string, key: string) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/${file}`, "utf8"))![1]);
const rss = (pid: number) => proc(pid, "status", "VmRSS") * 1024;
const rchar = (pid: number) => proc(pid, "io", "rchar");
const MIB = 1 << 20;

/** Streams `size` bytes chunked from one reused buffer; stops once an answer arrives. */
function chunkedPost(
  path: string,
  headers: Record<string, string>,
  size: number,
): Promise<{ status: number; body: string; sent: number }> {
  const url = new URL(consoleUrl());
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname);
    const chunk = Buffer.alloc(64 << 10, 0x41);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    let got = "";
    let sent = 0;
    let answered = false;
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      answered = true;
    });
    sock.on("error", () => (answered = true));
    sock.on("close", () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (!m) return reject(new Error(`no answer after ${sent} bytes`));
      resolve({ status: Number(m[1]), body: got.slice(got.indexOf("\r\n\r\n") + 4), sent });
    });
    sock.on("connect", async () => {
      const head = [
        `POST ${path} HTTP/1.1`,
        `host: ${url.host}`,
        "transfer-encoding: chunked",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      sock.write(`${head.join("\r\n")}\r\n\r\n`);
      while (sent < size && !answered && !sock.destroyed) {
        sent += chunk.length;
        if (!sock.write(frame))
          await new Promise<void>((r) => {
            sock.once("drain", r);
            sock.once("close", r);
            sock.once("data", () => r());
          });
      }
      setTimeout(() => sock.end(), 200);
    });
  });
}

test("[AUTH][LIMITS]: 50 MB and 200 MB bodies without a length are refused at the limit; memory stays flat; anonymous uploads are not read", async ({
  request,
}) => {
  const pid = consolePid();
  // An auditor's API token, as in the report.
  await apiSignIn(request, admin.email, admin.password);
  const email = uniqueEmail("auditor-limits");
  const password = "auditor password for limits";
  expect(
    (await trpcMutation(request, "users.create", { email, name: "Aud Limits", password, roles: ["auditor"] }))
      .status,
  ).toBe(200);
  const ctx = await playwrightRequest.newContext({ baseURL: consoleUrl() });
  await apiSignIn(ctx, email, password);
  const token = (
    (await trpcMutation(ctx, "tokens.create", { name: "limits" })).body as {
      result: { data: { json: { token: string } } };
    }
  ).result.data.json.token;
  await ctx.dispose();

  const before = rss(pid);
  const signIn = await chunkedPost(
    "/api/auth/sign-in/email",
    { "content-type": "application/json", origin: consoleUrl() },
    50_000_000,
  );
  expect(signIn.status).toBe(413);
  expect(signIn.body).toContain("limited to 64 KiB");
  const trpc = await chunkedPost(
    "/api/trpc/users.create",
    { "content-type": "application/json", authorization: `Bearer ${token}` },
    200_000_000,
  );
  expect(trpc.status).toBe(413);
  expect(trpc.body).toContain("limited to 1 MiB");
  const grown = rss(pid) - before;
  console.log(
    `console RSS after 50 MB + 200 MB refused bodies: ${(grown / MIB).toFixed(1)} MiB (sent ${(signIn.sent / MIB).toFixed(1)} + ${(trpc.sent / MIB).toFixed(1)} MiB before the answer)`,
  );
  expect(grown).toBeLessThan(64 * MIB);

  const read = rchar(pid);
  const upload = await chunkedPost(
    "/api/releases/upload?mode=push",
    { "content-type": "application/octet-stream", "x-keel-manifest-bytes": "100" },
    200_000_000,
  );
  expect(upload.status).toBe(401);
  expect(upload.sent).toBeLessThan(200_000_000);
  const readDuring = rchar(pid) - read;
  console.log(
    `console read ${(readDuring / 1024).toFixed(0)} KiB in all (any file or socket) while refusing a 200 MB anonymous upload`,
  );
  expect(readDuring).toBeLessThan(4 * MIB);
});
