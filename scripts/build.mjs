// Bundles the sample service into one self-contained file, dist/app/server.js, that runs with
// `node` and no node_modules: the artifact the fleet ships. `npm run build` then writes the Node that runs it,
// dist/runtime/ (scripts/runtime.ts).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Builds the bundle to `outfile` (default dist/app/server.js); tests build into their own temp dir. */
export async function buildApp(outfile = path.join(root, "dist/app/server.js")) {
  await build({
    entryPoints: [path.join(root, "app/server.ts")],
    outfile,
    bundle: true,
    platform: "node",
    // The runtime's major (contract/runtime.ts): the bundle runs only on that Node, so nothing is down-levelled.
    target: "node26",
    format: "cjs",
    // hot-shots' optional Unix-datagram transport; UDP is what we use, its require() is guarded.
    external: ["unix-dgram"],
    logLevel: "warning",
    legalComments: "none",
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildApp(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
