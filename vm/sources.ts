// What the VM's boot downloads, on the data disk (mounted read-only at /mnt/vmtest), each through its real
// delivery mechanism, and the host input fields that point the production rendering at it:
//   - the SSM agent: <base>/<version>/debian_amd64/amazon-ssm-agent.deb and its detached .sig, laid out like
//     AWS's regional bucket, signed by a key made for this run whose keyring the boot is given;
//   - the Datadog agent: a signed apt repository (`stable 7`, like apt.datadoghq.com) and its public key at
//     <keys>/DATADOG_APT_KEY_<last 8 hex>.public (like keys.datadoghq.com), the boot given its fingerprint;
//   - the runtime and the bundle: S3 objects, read by the stand-in `aws` (vm/image/aws).
import * as fs from "node:fs";
import * as path from "node:path";
import { datadogAgentVersion, ssmAgentVersion } from "../host/packages";
import type { DatadogAgentSource, SsmAgentSource } from "../host/packages";
import { ThrowawayKey, aptRepository, buildDeb, filesUnder } from "./standins";

/** Where the image's fstab mounts the data disk. */
export const dataMount = "/mnt/vmtest";
const standins = path.join(__dirname, "standins");

export interface AgentSources {
  /** Files for the data disk, by path relative to its root. */
  dataFiles: Record<string, Buffer>;
  /** The host input's source fields, pointed at the data disk (versions stay the pinned defaults). */
  ssmAgent: Partial<SsmAgentSource>;
  datadogAgent: Partial<DatadogAgentSource>;
  /** Package versions as dpkg reports them once installed. */
  installedVersions: { ssmAgent: string; datadogAgent: string };
  /** Stops the throwaway keys' gpg-agents. */
  close(): void;
}

/**
 * Builds the agents' sources in workDir. `tamperSsmAgent`: the .deb served is another well-formed package of
 * the same name and version than the one its (genuine) signature was made for.
 */
export function agentSources(workDir: string, o: { tamperSsmAgent?: boolean } = {}): AgentSources {
  const ssmKey = new ThrowawayKey(workDir, "ssm-agent");
  const ddKey = new ThrowawayKey(workDir, "datadog");
  try {
    const debs = path.join(workDir, "debs");
    const ssmVersion = `${ssmAgentVersion}-1`;
    const ddVersion = `1:${datadogAgentVersion}-1`;
    const ssmSpec = (binary: string) => ({
      name: "amazon-ssm-agent",
      version: ssmVersion,
      description: "Amazon SSM agent stand-in (VM test): stays up, reaches nothing",
      files: {
        "/usr/bin/amazon-ssm-agent": { source: binary, mode: 0o755 },
        "/lib/systemd/system/amazon-ssm-agent.service": {
          source: path.join(standins, "amazon-ssm-agent.service"),
          mode: 0o644,
        },
      },
      postinst: path.join(standins, "amazon-ssm-agent.postinst"),
    });
    const ssmDeb = buildDeb(workDir, debs, ssmSpec(path.join(standins, "amazon-ssm-agent")));
    const ddDeb = buildDeb(workDir, debs, {
      name: "datadog-agent",
      version: ddVersion,
      depends: "passwd",
      description: "Datadog agent stand-in (VM test): needs an API key like the real one, sends nothing",
      files: {
        "/opt/datadog-agent/bin/agent/agent": { source: path.join(standins, "datadog-agent"), mode: 0o755 },
        "/lib/systemd/system/datadog-agent.service": {
          source: path.join(standins, "datadog-agent.service"),
          mode: 0o644,
        },
      },
      postinst: path.join(standins, "datadog-agent.postinst"),
    });

    const ssmDir = `ssm-agent/${ssmAgentVersion}/debian_amd64`;
    const sig = ssmKey.detachSign(ssmDeb);
    let served = fs.readFileSync(ssmDeb);
    if (o.tamperSsmAgent) {
      // A well-formed package dpkg would install, with other bytes in its binary than the signed one: only
      // the signature check can refuse it.
      const evil = path.join(workDir, "amazon-ssm-agent.tampered");
      fs.writeFileSync(evil, fs.readFileSync(path.join(standins, "amazon-ssm-agent"), "utf8") + "# tampered\n");
      served = fs.readFileSync(buildDeb(workDir, path.join(workDir, "tampered"), ssmSpec(evil)));
    }

    const repo = path.join(workDir, "apt-datadog");
    aptRepository(repo, { suite: "stable", component: "7", debs: [ddDeb], key: ddKey });
    return {
      dataFiles: {
        [`${ssmDir}/amazon-ssm-agent.deb`]: served,
        [`${ssmDir}/amazon-ssm-agent.deb.sig`]: sig,
        ...filesUnder(repo, "apt/datadog"),
        [`apt/keys/DATADOG_APT_KEY_${ddKey.fingerprint.slice(-8)}.public`]: Buffer.from(ddKey.armored()),
      },
      ssmAgent: { baseUrl: `file://${dataMount}/ssm-agent`, keyring: ssmKey.keyring().toString("base64") },
      datadogAgent: {
        aptUrl: `file://${dataMount}/apt/datadog/`,
        keysUrl: `file://${dataMount}/apt/keys`,
        keyFingerprints: [ddKey.fingerprint],
      },
      installedVersions: { ssmAgent: ssmVersion, datadogAgent: ddVersion },
      close: () => {
        ssmKey.close();
        ddKey.close();
      },
    };
  } catch (e) {
    ssmKey.close();
    ddKey.close();
    throw e;
  }
}
