// Preloaded into one program run (NODE_OPTIONS=--require, which leaves process.execArgv alone, so the SDK's
// run.js takes the same path). At exit it writes to $TSNODE_PROBE_OUT which tsconfig ts-node registered the
// program with, the compiler options that came out of it, and whether that compiler rejects a line only the
// project's settings reject (noUncheckedIndexedAccess). It only observes.
"use strict";
const fs = require("fs");
const path = require("path");

process.on("exit", () => {
  const service = process[Symbol.for("ts-node.register.instance")];
  let out = { registered: false };
  if (service) {
    const o = service.config.options;
    let strictProbe = "accepted";
    try {
      // An element of a number[] is `number | undefined` under noUncheckedIndexedAccess: TS2322.
      service.compile(
        "const xs: number[] = [];\nexport const first: number = xs[0];\n",
        path.join(process.cwd(), "__tsconfig_probe__.ts"),
      );
    } catch (e) {
      strictProbe = String(e && e.diagnosticCodes ? e.diagnosticCodes.join(",") : e);
    }
    out = {
      registered: true,
      configFilePath: service.configFilePath ?? null,
      transpileOnly: !!service.options.transpileOnly,
      options: {
        strict: o.strict,
        noUncheckedIndexedAccess: o.noUncheckedIndexedAccess,
        noImplicitOverride: o.noImplicitOverride,
        skipLibCheck: o.skipLibCheck,
        esModuleInterop: o.esModuleInterop,
        target: o.target,
        module: o.module,
        moduleResolution: o.moduleResolution,
        lib: o.lib,
        types: o.types,
      },
      strictProbe,
    };
  }
  fs.writeFileSync(process.env.TSNODE_PROBE_OUT, JSON.stringify(out));
});
