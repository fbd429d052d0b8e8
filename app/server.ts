// Entry point of the bundle (dist/app/server.js): the cluster primary, or a worker when forked.
import cluster from "node:cluster";
import { parseConfig } from "./config";
import { EX_CONFIG } from "./protocol";
import { runPrimary } from "./primary";
import { runWorker } from "./worker";

const parsed = parseConfig(process.env);
if ("error" in parsed) {
  process.stderr.write(`${parsed.error}\n`);
  process.exit(EX_CONFIG);
}
if (cluster.isPrimary) runPrimary(parsed.config);
else runWorker(parsed.config, Number(process.env.WORKER_SLOT ?? 0));
