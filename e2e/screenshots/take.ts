// `npm run screenshots`: the main pages, light and dark, into docs/screenshots/ — from a console
// started like the e2e suite's (`npm start` on a temporary data dir, e2e/fixtures/console.ts),
// seeded with a small fleet (prisma/seed/fleet.ts: hosts in prod and staging, releases, approvers)
// and one rollout that was planned again after an approval, so the approval card has something to
// show. Debian's Chromium (KEEL_E2E_CHROMIUM overrides /usr/bin/chromium). Run as root, like the tests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { createDb } from "@/server/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { replanRollout } from "@/server/services/rollouts/replan-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { REPO, startConsole } from "@/e2e/fixtures/console";

const OUT = join(REPO, "docs/screenshots");

/** The embedded PostgreSQL's superuser, from the data dir (infra/start/postgres.ts writes these). */
function superuserUrl(dataDir: string): string {
  let pgDir = join(dataDir, "pg");
  try {
    pgDir = readFileSync(join(dataDir, "pg-location"), "utf8").trim();
  } catch {
    /* inside the data dir */
  }
  const pw = readFileSync(join(dataDir, "pg-password"), "utf8").trim();
  const port = readFileSync(join(pgDir, "postmaster.pid"), "utf8").split("\n")[3]!.trim();
  return `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:${port}/keel`;
}

async function seed(dataDir: string): Promise<string> {
  const db = createDb(superuserUrl(dataDir));
  try {
    const operator = await seedUser(db, "olivia@example.com", ["operator"]);
    const ap1 = await seedUser(db, "arjun@example.com", ["approver"]);
    await seedUser(db, "beatriz@example.com", ["approver"]);
    await seedHosts(db, 8, {
      prefix: "web",
      environment: "prod",
      app: "web",
      current: "1.4",
      previous: "1.3",
      labels: { role: "web" },
    });
    await seedHosts(db, 4, {
      prefix: "stg",
      environment: "staging",
      app: "web",
      current: "1.5",
      previous: "1.4",
      labels: { role: "web" },
    });
    await seedHosts(db, 3, {
      prefix: "db",
      environment: "prod",
      app: "pg-tools",
      current: "2.1",
      labels: { role: "db" },
    });
    await db.host.updateMany({
      data: { os: "Debian GNU/Linux 12", lastSeenAt: new Date(), reachable: true },
    });
    for (const v of ["1.3", "1.4", "1.5"]) await seedRelease(db, "web", v, 40_000_000);
    await seedRelease(db, "pg-tools", "2.1", 8_000_000);
    const clock = () => new Date();
    const spec: TRolloutSpec = {
      action: "update",
      app: "web",
      version: "1.5",
      targets: { environments: ["prod"] },
      waves: ["1", "50%", "100%"],
      failureThreshold: 0,
      parallelism: 4,
    };
    const r = await createRollout({ db, clock }, operator, spec);
    await answerRollout({ db, clock }, ap1, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    await replanRollout({ db, clock }, operator, r.id, { ...spec, parallelism: 2 });
    return r.id;
  } finally {
    await db.$disconnect();
  }
}

async function main(): Promise<void> {
  // Seeded hosts are not real: no inventory refresh marks them unreachable.
  const keel = await startConsole({ env: { KEEL_INVENTORY_REFRESH_SECONDS: "0" } });
  try {
    const rolloutId = await seed(keel.dataDir);
    const browser = await chromium.launch({
      executablePath: process.env.KEEL_E2E_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    try {
      const pages: [string, string][] = [
        ["hosts", "/hosts"],
        ["apps", "/apps"],
        ["releases", "/releases"],
        ["rollouts", "/rollouts"],
        ["rollout", `/rollouts/${rolloutId}`],
        ["approvals", "/approvals"],
        ["policy", "/policy"],
        ["audit", "/audit"],
        ["settings", "/settings"],
      ];
      for (const theme of ["light", "dark"] as const) {
        const ctx = await browser.newContext({
          baseURL: keel.url,
          viewport: { width: 1280, height: 860 },
          colorScheme: theme,
        });
        await ctx.addCookies([{ name: "keel-theme", value: theme, url: keel.url }]);
        const page = await ctx.newPage();
        await page.goto("/sign-in");
        await page.getByLabel("Email").fill(keel.adminEmail);
        await page.getByLabel("Password").fill(keel.adminPassword);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
        for (const [name, path] of pages) {
          await page.goto(path);
          await page.waitForLoadState("networkidle");
          if (name === "apps") await page.getByRole("region", { name: "Version distribution" }).waitFor();
          const file = join(OUT, `${name}-${theme}.png`);
          await page.screenshot({ path: file });
          console.log(`screenshots: ${file}`);
        }
        await ctx.close();
      }
    } finally {
      await browser.close();
    }
  } finally {
    await keel.stop();
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
