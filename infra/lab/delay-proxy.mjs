// Delaying TCP relay for `lab fault HOST delay MS` on kernels without netem: runs in the host's
// network namespace, accepts the connections iptables REDIRECTs from port 22, and hands every
// chunk the host sends back to the client MS milliseconds late (like netem on the host's egress).
// Usage: node delay-proxy.mjs LISTEN_PORT TARGET_PORT DELAY_MS NETNS (the last only names it for `down`)
import { createServer, connect } from "node:net";
import { setTimeout } from "node:timers";

const [listenPort, targetPort, delayMs] = process.argv.slice(2).map(Number);
const HIGH_WATER = 4 * 1024 * 1024;

const server = createServer((client) => {
  const upstream = connect({ host: "127.0.0.1", port: targetPort });
  let pending = 0;
  client.pipe(upstream);
  upstream.on("data", (chunk) => {
    pending += chunk.length;
    if (pending > HIGH_WATER) upstream.pause();
    // Timers of one duration fire in the order they were set, so chunks keep their order.
    setTimeout(() => {
      pending -= chunk.length;
      if (!client.destroyed) client.write(chunk);
      if (pending <= HIGH_WATER) upstream.resume();
    }, delayMs);
  });
  upstream.on("end", () => setTimeout(() => client.end(), delayMs));
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
  client.on("close", () => setTimeout(() => upstream.destroy(), delayMs));
});
server.listen(listenPort, "0.0.0.0");
