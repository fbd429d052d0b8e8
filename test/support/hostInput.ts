// A complete, valid host input for renderer tests.
import { nodeRuntime } from "../../contract/runtime";
import { HostInput, withHostDefaults } from "../../host/input";

/** The pinned x64 runtime, at a sample S3 key. */
export const sampleRuntime: HostInput["runtime"] = {
  url: `s3://sample-artifacts/runtimes/${nodeRuntime.sha256.x64}`,
  sha256: nodeRuntime.sha256.x64,
  version: nodeRuntime.version,
};

export const sampleInput = (): HostInput =>
  withHostDefaults({
    env: "prod",
    version: "2026.11.25-1",
    bundle: { url: "s3://sample-artifacts/sample-api/2026.11.25-1/server.js", sha256: "ab".repeat(32) },
    runtime: sampleRuntime,
  });

export { gtlsDriverPresent, run, tempDir, tool } from "./tools";
