#!/usr/bin/env node
// keel-forced: the forced command for the console's key in authorized_keys (docs/ssh.md).
//   command="/usr/bin/node /usr/local/lib/keel/keel-forced.mjs /usr/local/lib/keel/keel-agent.mjs",restrict,... KEY
// sshd runs this instead of whatever the client asked for and puts the request in
// SSH_ORIGINAL_COMMAND. The only request allowed is the one the console sends to start the
// agent — `'node' '<agent>' 'serve'` (optionally after `'sudo' '-n' '--'`), every word in single
// quotes exactly as server/ssh/quote.ts builds it. Anything else is refused; no shell is ever
// involved, and the agent runs with a fixed environment (nothing the client set reaches it).
import { spawn } from "node:child_process";

const agent = process.argv[2];
const REFUSED = 126;

function refuse(why) {
  process.stderr.write(`keel-forced: refused: ${why}. This key may only run "keel-agent serve".\n`);
  process.exit(REFUSED);
}

/** Strict inverse of the console's quoting: words 'like'\''this' separated by single spaces. */
function parseQuoted(line) {
  const out = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] !== "'") return null;
    let word = "";
    i++;
    for (;;) {
      const end = line.indexOf("'", i);
      if (end < 0) return null;
      word += line.slice(i, end);
      i = end + 1;
      if (line.startsWith("\\''", i)) {
        word += "'";
        i += 3;
        continue;
      }
      break;
    }
    out.push(word);
    if (i === line.length) break;
    if (line[i] !== " " || i + 1 === line.length) return null;
    i++;
  }
  return out.length > 0 ? out : null;
}

if (!agent || !/^\/[A-Za-z0-9._/+-]+\.mjs$/.test(agent) || agent.includes(".."))
  refuse("the forced command line names no valid agent path");
const original = process.env.SSH_ORIGINAL_COMMAND;
if (original === undefined) refuse("no command was given (interactive logins are not allowed)");
if (original.length > 4096) refuse("the command is too long");
const words = parseQuoted(original);
if (!words) refuse("the command is not in the console's quoted form");
const rest = words[0] === "sudo" ? (words[1] === "-n" && words[2] === "--" ? words.slice(3) : null) : words;
if (!rest) refuse("only `sudo -n --` may precede the agent");
if (
  rest.length !== 3 ||
  !/^(node|\/[A-Za-z0-9._/+-]*\/node)$/.test(rest[0]) ||
  rest[1] !== agent ||
  rest[2] !== "serve"
) {
  refuse("only the agent's serve command is allowed");
}

const argv = [process.execPath, agent, "serve"];
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
const child = spawn(asRoot ? argv[0] : "/usr/bin/sudo", asRoot ? argv.slice(1) : ["-n", "--", ...argv], {
  stdio: "inherit",
  env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
});
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("error", (e) => refuse(`could not start the agent: ${e.message}`));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
