// Two projects: `unit` (colocated *.test.ts, no external services) and `int`
// (*.int.test.ts and agent/test: real PostgreSQL, OpenSSH, btrfs loop images, lab hosts; run as root).
import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = fileURLToPath(new URL(".", import.meta.url));
// Tests get a data directory outside the checkout (server/test/unit-data-dir.ts removes it), so none
// writes the console's identity, secrets or artifacts into `.keel/` of the checkout.
const unitDataDir = (process.env.KEEL_UNIT_DATA_DIR ??= mkdtempSync(join(tmpdir(), "keel-unit-data-")));

export default defineConfig({
  resolve: { alias: { "@": root } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          // Generous: some unit tests fsync or spawn processes, and CI machines are shared.
          testTimeout: 30_000,
          include: ["**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**", "agent/test/**", "e2e/**", ".next/**"],
          env: { KEEL_DATA_DIR: unitDataDir },
          globalSetup: ["server/test/unit-data-dir.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "int",
          include: ["**/*.int.test.ts", "agent/test/**/*.test.ts"],
          exclude: ["node_modules/**", "e2e/**", ".next/**"],
          env: { KEEL_DATA_DIR: unitDataDir },
          globalSetup: ["server/test/global-setup.ts", "server/test/unit-data-dir.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
