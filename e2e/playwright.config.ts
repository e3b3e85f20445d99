// Playwright: Debian's Chromium against one real console started by global setup
// (`npm start` with a temporary data dir, embedded PostgreSQL and a free port).
// The sign-in rate-limit test runs last, in its own project, so its burst of failed
// sign-ins cannot throttle the other tests' sign-ins.
import { defineConfig } from "@playwright/test";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD ??= "1";
// One output folder per run (workers inherit this from the runner): Playwright empties its
// output folder when a run starts, which would wipe the artifacts of a run already going.
process.env.KEEL_E2E_RUN ??= String(process.pid);

export default defineConfig({
  testDir: "./tests",
  outputDir: `../test-results/e2e-${process.env.KEEL_E2E_RUN}`,
  globalSetup: "./fixtures/global-setup.ts",
  // One console, tests that change shared state (users, sessions): run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI
    ? [["list"]]
    : [["list"], ["html", { open: "never", outputFolder: "../playwright-report" }]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.KEEL_E2E_CHROMIUM ?? "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 10_000,
    navigationTimeout: 20_000,
  },
  projects: [
    { name: "console", testIgnore: /rate-limit/ },
    { name: "rate-limits", testMatch: /rate-limit/, dependencies: ["console"] },
  ],
});
