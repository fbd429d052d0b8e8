import * as net from "node:net";

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function ephemeralPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A port nobody listens on right now on every given loopback address (for servers that cannot listen on 0 and report back). */
export async function freePort(hosts: string | string[] = "127.0.0.1"): Promise<number> {
  const all = typeof hosts === "string" ? [hosts] : hosts;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort(all[0] ?? "127.0.0.1");
    let free = true;
    for (const h of all.slice(1)) if (!(await bindable(port, h))) free = false;
    if (free) return port;
  }
  throw new Error(`no port free on all of ${all.join(", ")}`);
}
