import {
  admin,
  apiSignIn,
  consoleUrl,
  expect,
  test,
  trpcMutation,
  trpcQuery,
  uniqueEmail,
} from "@/e2e/fixtures/test";

test("[API][VALIDATION]: malformed tRPC input comes back with the zod issues and changes nothing", async ({
  request,
}) => {
  await apiSignIn(request, admin.email, admin.password);
  const email = "not-an-email";
  const { status, body } = await trpcMutation(request, "users.create", {
    email,
    name: "",
    password: "x",
    roles: ["king"],
    approvedBy: "me",
  });
  expect(status).toBe(400);
  const err = body?.error?.json;
  expect(err?.data.code).toBe("BAD_REQUEST");
  const paths = (err?.data.zodIssues ?? []).map((i) => i.path.join("."));
  expect(paths).toEqual(expect.arrayContaining(["email", "password", "roles.0"]));

  const list = await trpcQuery(request, "users.list");
  expect(list.status).toBe(200);
  expect(JSON.stringify(list.body)).not.toContain(email);
});

test("[API][CSRF]: a cross-origin text/plain form post to a mutation is refused and creates nothing", async ({
  request,
}) => {
  await apiSignIn(request, admin.email, admin.password);
  const email = uniqueEmail("csrf");
  const payload = JSON.stringify({
    json: { email, name: "Mallory", password: "mallory-password-1", roles: ["admin"] },
  });

  // What a hostile page's <form enctype="text/plain"> would send with the admin's cookie.
  const res = await request.post("/api/trpc/users.create", {
    headers: { "content-type": "text/plain", origin: "https://evil.example" },
    data: payload,
  });
  expect(res.status()).toBeGreaterThanOrEqual(400);
  expect(res.status()).toBeLessThan(500);

  // Same origin but text/plain (a simple request, no CORS preflight) is refused too.
  const sameOrigin = await request.post("/api/trpc/users.create", {
    headers: { "content-type": "text/plain", origin: consoleUrl() },
    data: payload,
  });
  expect(sameOrigin.status()).toBeGreaterThanOrEqual(400);
  expect(sameOrigin.status()).toBeLessThan(500);

  // A mutation over GET does nothing either.
  const viaGet = await request.get(`/api/trpc/users.create?input=${encodeURIComponent(payload)}`);
  expect(viaGet.status()).toBeGreaterThanOrEqual(400);

  const list = await trpcQuery(request, "users.list");
  expect(list.status).toBe(200);
  expect(JSON.stringify(list.body)).not.toContain(email);
});
