// Lint: typescript-eslint's recommended rules plus React hooks; formatting is Prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

/**
 * One import style outside the agent: a module in another folder is imported by its path from the
 * root (`@/server/...`), `./` only within the file's own folder. The agent stands alone (it ships as
 * one file and cannot resolve `@/`), so it imports its own files relatively. Every block below that
 * sets no-restricted-imports repeats this pattern, since a later block's rule replaces an earlier one's.
 */
const ONE_STYLE = {
  regex: "^\\.\\./",
  message: "import a module of another folder as @/<path from the root>; ./ only within this folder",
};

/** What no server file imports; the services' block spreads them in (a later block's rule replaces an earlier one's) and adds jobs. */
const SERVER_IMPORTS = [
  ONE_STYLE,
  {
    group: ["**/agent/src/**", "@/agent/src/**"],
    message: "server imports agent/protocol, never agent/src",
  },
  { group: ["@/app/**", "**/app/**"], message: "server does not import the pages" },
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      ".next/",
      ".next-e2e/",
      ".next-start-test/",
      ".keel/",
      "agent/dist/",
      "next-env.d.ts",
      "test-results/",
      "playwright-report/",
      ".lab/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.tsx"],
    plugins: { "react-hooks": reactHooks },
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "warn" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  // The layout's import rules (docs: DEVELOPERS.md "Layout rules"), enforced rather than hoped for.
  {
    files: [
      "app/**/*.{ts,tsx}",
      "server/**/*.ts",
      "infra/**/*.ts",
      "bench/**/*.ts",
      "prisma/**/*.ts",
      "e2e/**/*.ts",
    ],
    rules: { "no-restricted-imports": ["error", { patterns: [ONE_STYLE] }] },
  },
  {
    // The agent ships as one file with no node_modules: Node's standard library and itself only.
    files: ["agent/src/**/*.ts", "agent/protocol/**/*.ts"],
    ignores: ["**/*.test.ts", "**/test-fixtures.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(?!node:|\\.)",
              message: "the agent imports only node:* and its own files (it ships as one file)",
            },
            {
              group: ["**/server/**", "**/app/**", "**/prisma/**", "**/infra/**", "@/**"],
              message: "the agent imports nothing from the console",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["agent/protocol/**/*.ts"],
    ignores: ["**/*.test.ts", "**/test-fixtures.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(?!node:|\\.)", message: "agent/protocol imports only node:* and its own files" },
            {
              group: ["**/src/**", "@/**"],
              message:
                "agent/protocol is the wire contract: it imports nothing from agent/src or the console",
            },
          ],
        },
      ],
    },
  },
  {
    // The console reaches hosts through agent/protocol only, and services never depend on jobs.
    files: ["server/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [...SERVER_IMPORTS],
        },
      ],
    },
  },
  {
    files: ["server/services/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...SERVER_IMPORTS,
            {
              group: ["@/server/jobs/**", "**/jobs/**"],
              message: "services do not import jobs (jobs call services)",
            },
          ],
        },
      ],
    },
  },
  {
    // Client components see the server only as `type AppRouter`.
    files: ["app/**/*.tsx"],
    ignores: [
      "app/**/page.tsx",
      "app/**/layout.tsx",
      "app/**/route.ts",
      "app/_trpc/server.ts",
      "app/(console)/_console-key.tsx",
      "app/**/not-found.tsx",
      "app/**/forbidden.tsx",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ONE_STYLE,
            {
              group: ["@/server/**", "**/server/**", "!@/server/trpc/root"],
              message: "client components import only `type AppRouter` from the server",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
