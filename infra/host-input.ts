// The one mapping from stack config to the host renderers' input, used by the stack and `npm run render`.
import { HostInput, withHostDefaults } from "../host/input";
import { StackConfig, serviceSettingsOf } from "./config";

/** The host input for a stack: the one mapping from stack config to host files (stack and `npm run render`). */
export function hostInputOf(c: StackConfig, where: { region: string; bundleUrl: string; bundleSha256: string }): HostInput {
  return withHostDefaults({
    env: c.env,
    // The content hash names the release: same bundle, same version, same user-data.
    version: where.bundleSha256.slice(0, 12),
    bundle: { url: where.bundleUrl, sha256: where.bundleSha256 },
    service: serviceSettingsOf(c),
    region: where.region,
    datadogSite: c.datadogSite,
  });
}
