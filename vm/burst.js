// Runs inside the test VM: starts N concurrent GETs of one URL, prints {"allSent":true} once every
// request is written to its socket, then one JSON line with each request's status and duration.
const http = require("node:http");
const [url, n] = [process.argv[2], Number(process.argv[3])];
let sent = 0;
const started = Date.now();
const one = () =>
  new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, ms: Date.now() - t0 }));
    });
    req.on("error", (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.message }));
    req.on("finish", () => {
      if (++sent === n) console.log(JSON.stringify({ allSent: true, afterMs: Date.now() - started }));
    });
  });
Promise.all(Array.from({ length: n }, one)).then((results) => console.log(JSON.stringify({ results })));
