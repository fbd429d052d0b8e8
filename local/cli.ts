// npm run local -- <up|deploy|rollback|status|down> [options]: the local fleet behind HAProxy.
import path from "node:path";
import { parseArgs } from "node:util";
import { FleetError, deploy, down, readState, rollback, serverStatuses, up } from "./fleet";

const root = path.resolve(__dirname, "..");
export const defaultDir = path.join(root, ".local");
export const defaultBundle = path.join(root, "dist", "app", "server.js");

const usage = `usage: npm run local -- <command> [options]
  up [--instances N] [--workers W]   start N hosts (default 3) of W workers (default 2) behind HAProxy
  deploy [--batch K]                 rolling deploy of dist/app/server.js, K hosts at a time (default 1)
  rollback [--batch K]               every host back to its previous release, K hosts at a time
  status                             each server's state as HAProxy sees it
  down                               stop what \`up\` started`;

function int(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new FleetError(`--${name} ${v}: must be a positive integer`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      instances: { type: "string" },
      workers: { type: "string" },
      batch: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case "up": {
      const state = await up({
        dir: defaultDir,
        bundle: defaultBundle,
        instances: int(values.instances, "instances", 3),
        workers: int(values.workers, "workers", 2),
      });
      console.log(`${state.hosts.length} hosts ready behind HAProxy (stats: ${state.statsUrl})`);
      console.log(state.url);
      return 0;
    }
    case "deploy": {
      const state = running();
      const r = await deploy(state, {
        bundle: defaultBundle,
        batch: int(values.batch, "batch", 1),
        onLog: (l) => console.log(l),
      });
      console.log(
        r.ok
          ? `deployed ${r.version} to ${r.hosts.length} hosts in ${r.durationMs} ms`
          : `deploy of ${r.version} stopped at ${r.hosts.at(-1)?.host}: it rolled back`,
      );
      return r.ok ? 0 : 1;
    }
    case "rollback": {
      const state = running();
      const r = await rollback(state, { batch: int(values.batch, "batch", 1), onLog: (l) => console.log(l) });
      console.log(
        r.ok
          ? `rolled back ${r.hosts.length} hosts in ${r.durationMs} ms`
          : `rollback stopped at ${r.hosts.at(-1)?.host}: it switched back`,
      );
      return r.ok ? 0 : 1;
    }
    case "status": {
      const state = running();
      for (const s of await serverStatuses(state))
        console.log(
          `${s.name.padEnd(4)} ${s.address.padEnd(18)} ${s.status.padEnd(9)} ${s.lastCheck.padEnd(10)} sessions=${s.current} total=${s.total}`,
        );
      return 0;
    }
    case "down": {
      const stopped = await down(defaultDir);
      console.log(stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running");
      return 0;
    }
    default:
      console.error(`unknown command: ${command}\n${usage}`);
      return 2;
  }
}

function running() {
  const state = readState(defaultDir);
  if (!state) throw new FleetError("no local fleet is running: start one with `npm run local -- up`");
  return state;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      // A user mistake gets one line; anything else is a bug worth its stack.
      const mistake = e instanceof FleetError || (e as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS");
      console.error(mistake ? `error: ${e.message}` : e);
      process.exit(1);
    },
  );
}
