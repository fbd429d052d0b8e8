// What every container of the docker target gets: its log driver (json-file rotated by size, or journald), and
// the hardening a systemd unit gets on a host (no capability, no privilege gain, read-only root file system).
import type * as docker from "@pulumi/docker";

/** Docker's log drivers the docker target offers: json-file (Docker's default, any engine) or journald (Linux hosts). */
export type DockerLogDriver = "json-file" | "journald";

export interface DockerLogging {
  /** Default json-file. */
  driver?: DockerLogDriver;
  /** json-file: size at which a log file is rotated. Default 10m. */
  maxSize?: string;
  /** json-file: rotated files kept. Default 3. */
  maxFile?: number;
  /** journald: SYSLOG_IDENTIFIER of the lines, as the service's systemd unit sets it on a host. */
  tag: string;
}

export class DockerLoggingError extends Error {}

/** The container args of a log setting; refuses an unknown driver or a size Docker would refuse. */
export function dockerLogArgs(l: DockerLogging): Pick<docker.ContainerArgs, "logDriver" | "logOpts"> {
  const driver = l.driver ?? "json-file";
  if (driver === "journald") return { logDriver: "journald", logOpts: { tag: l.tag } };
  if (driver !== "json-file")
    throw new DockerLoggingError(`logDriver: "${String(driver)}" must be json-file or journald`);
  const maxSize = l.maxSize ?? "10m";
  const maxFile = l.maxFile ?? 3;
  if (!/^[1-9]\d*[kmg]$/.test(maxSize))
    throw new DockerLoggingError(`logMaxSize: "${maxSize}" must be a size like 10m (k, m or g)`);
  if (!Number.isInteger(maxFile) || maxFile < 1)
    throw new DockerLoggingError(`logMaxFile: ${maxFile} must be a positive integer`);
  return { logDriver: "json-file", logOpts: { "max-size": maxSize, "max-file": String(maxFile) } };
}

/**
 * No capability, no privilege gain, nothing written outside the given tmpfs folders (unless `writableRoot`: Docker
 * refuses to copy `uploads` into a read-only root file system); restarted unless stopped.
 */
export function hardenedContainerArgs(
  tmpfs: Record<string, string> = {},
  o: { writableRoot?: boolean } = {},
): Pick<docker.ContainerArgs, "readOnly" | "capabilities" | "securityOpts" | "tmpfs" | "restart"> {
  return {
    readOnly: !o.writableRoot,
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m", ...tmpfs },
    // systemd's Restart=on-failure on a host; Docker also restarts it when the engine starts again.
    restart: "unless-stopped",
  };
}
