// hello: a tiny HTTP service (docs/activation.md). Answers "hello <version>" on / and "ok" on
// /health, on 127.0.0.1:$PORT (default 8080). The version is the VERSION file next to it, read once
// at start: a new version answers only after a restart — which the release's onActivate does.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

const version = readFileSync(new URL("./VERSION", import.meta.url), "utf8").trim();
const port = Number(process.env.PORT ?? 8080);
createServer((req, res) => {
  const body = req.url === "/health" ? "ok\n" : `hello ${version}\n`;
  res.writeHead(200, { "content-type": "text/plain" }).end(body);
}).listen(port, "127.0.0.1", () => process.stderr.write(`hello ${version} listening on 127.0.0.1:${port}\n`));
