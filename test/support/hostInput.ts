// A complete, valid host input for renderer tests.
import { HostInput, withHostDefaults } from "../../host/input";

export const sampleInput = (): HostInput =>
  withHostDefaults({
    env: "prod",
    version: "2026.11.25-1",
    bundle: { url: "s3://sample-artifacts/sample-api/2026.11.25-1/server.js", sha256: "ab".repeat(32) },
  });

export { gtlsDriverPresent, run, tempDir, tool } from "./tools";
