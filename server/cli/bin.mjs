#!/usr/bin/env node
// `npx keel`: runs the TypeScript CLI (server/cli/main.ts) through tsx, in this process.
import { require as tsxRequire } from "tsx/cjs/api";

const { cliMain } = tsxRequire("./main.ts", import.meta.url);
await cliMain();
