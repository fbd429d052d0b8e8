// The orders API itself: the smallest service the hosts can run (`node server.js` under systemd, PORT from the
// env file the host renderers write). /readyz is what HAProxy checks; it fails while draining on SIGTERM.
const http = require("node:http");
const { setTimeout } = require("node:timers");

const port = Number(process.env.PORT ?? 8080);
const drainDelayMs = Number(process.env.DRAIN_DELAY_MS ?? 10000);
let draining = false;

const server = http.createServer((req, res) => {
  if (req.url === "/readyz") {
    res.writeHead(draining ? 503 : 200).end(draining ? "draining\n" : "ready\n");
  } else if (req.url === "/orders" && req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json" }).end("[]\n");
  } else {
    res.writeHead(404).end();
  }
});
server.listen(port);

process.once("SIGTERM", () => {
  draining = true;
  setTimeout(() => server.close(() => process.exit(0)), drainDelayMs).unref();
});
