// Datadog agent config: site, host tags, DogStatsD on loopback UDP only, journald logs of the host's
// program (the service, or HAProxy on an HAProxy node), a process check for it. CPU, memory, disk, load and network come from the agent's default checks.
import { hostPaths } from "../contract/layout";
import { stringify } from "yaml";
import { HostBase, HostInput } from "./input";

export interface DatadogFile {
  path: string;
  content: string;
}

const header = (path: string) => `# ${path}: rendered by host/datadog.ts, do not edit on the host.\n`;

/** The program whose journal entries and process the agent follows. */
export interface DatadogProgram {
  /** The logs' `service` and the process check's name. */
  name: string;
  unit: string;
  /** Datadog log pipeline, e.g. nodejs or haproxy. */
  source: string;
  /** Command-line fragment that finds the program's processes. */
  processSearch: string;
  /** Host tags besides env and service. */
  tags: string[];
}

export function serviceProgram(i: HostInput): DatadogProgram {
  const name = i.service.name;
  return {
    name,
    unit: `${name}.service`,
    source: "nodejs",
    processSearch: `${hostPaths(name).current}/server.js`,
    tags: [`version:${i.version}`],
  };
}

export function renderDatadog(i: HostInput): DatadogFile[] {
  return renderDatadogFor(i, serviceProgram(i));
}

export function renderDatadogFor(i: HostBase, program: DatadogProgram): DatadogFile[] {
  const name = i.service.name;
  const p = hostPaths(name);
  const files: DatadogFile[] = [];
  const add = (path: string, body: object, note = "") =>
    files.push({ path, content: header(path) + note + stringify(body) });

  add(
    "/etc/datadog-agent/datadog.yaml",
    {
      site: i.datadogSite,
      env: i.env,
      tags: [`env:${i.env}`, `service:${name}`, ...program.tags],
      // DogStatsD listens on 127.0.0.1:8125 only: the service sends from the same host.
      bind_host: "127.0.0.1",
      dogstatsd_port: 8125,
      dogstatsd_non_local_traffic: false,
      use_dogstatsd: true,
      logs_enabled: true,
      logs_config: { force_use_http: true },
      process_config: { process_collection: { enabled: true } },
      // The instance's EC2 tags as host tags: read from instance metadata (the hosts' metadata options expose
      // tags), falling back to the EC2 API (their roles grant ec2:DescribeTags) when metadata has none
      // (Datadog agent pkg/util/ec2 fetchEc2Tags).
      collect_ec2_tags: true,
      collect_ec2_tags_use_imds: true,
    },
    "# api_key is not here: systemd passes DD_API_KEY to the agent from a root-only file written at boot\n" +
      `# (${p.datadogEnvFile}, see the agent's drop-in), so the key lives in exactly one file.\n`,
  );
  add(`/etc/datadog-agent/conf.d/journald.d/conf.yaml`, {
    logs: [{ type: "journald", include_units: [program.unit], service: program.name, source: program.source }],
  });
  add(`/etc/datadog-agent/conf.d/process.d/conf.yaml`, {
    init_config: {},
    instances: [
      {
        name: program.name,
        search_string: [program.processSearch],
        exact_match: false,
        tags: [`service:${program.name}`],
      },
    ],
  });
  // The key reaches every agent process (core, process, trace) through its environment.
  const dropIn = `[Service]\nEnvironmentFile=${p.datadogEnvFile}\n`;
  for (const unit of ["datadog-agent.service", "datadog-agent-.service"]) {
    const path = `/etc/systemd/system/${unit}.d/${name}-api-key.conf`;
    files.push({ path, content: header(path) + dropIn });
  }
  return files;
}
