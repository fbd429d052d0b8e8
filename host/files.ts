// Every file the host gets, with its absolute path, owner and mode.
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { serviceEnv } from "../contract/env";
import { formatProblem } from "../contract/problem";
import { HostInput, checkHostInput } from "./input";
import { renderBootScript } from "./bootScript";
import { renderDatadog } from "./datadog";
import { renderDeployScript } from "./deploy/script";
import { renderLifecycleFiles } from "./lifecycle";
import { renderLogrotate } from "./logrotate";
import { renderRsyslog } from "./rsyslog";
import { renderSecretsScript } from "./secrets";
import { renderUnit } from "./unit";

export interface HostFile {
  path: string;
  content: string;
  owner: string;
  mode: string;
}

export function renderEnvFile(i: HostInput): string {
  const env: Record<string, string> = {
    ...serviceEnv(i.service),
    DISK_PATH: hostPaths(i.service.name).root,
    DD_AGENT_HOST: "127.0.0.1",
    DD_DOGSTATSD_PORT: "8125",
    DD_ENV: i.env,
    DD_SERVICE: i.service.name,
    DD_VERSION: i.version,
  };
  const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return `# ${hostPaths(i.service.name).envFile}: non-secret settings of the service, rendered by host/files.ts.\n${lines.join("\n")}\n`;
}

/** logrotate runs daily from Debian's timer; hourly runs let `maxsize` rotate a busy log the same day. */
export function renderLogrotateTimer(): string {
  return `# rendered by host/files.ts: hourly, so logrotate's maxsize takes effect between daily rotations.\n[Timer]\nOnCalendar=\nOnCalendar=hourly\n`;
}

export class HostInputError extends Error {}

export function renderHostFiles(i: HostInput): HostFile[] {
  const problems = checkHostInput(i);
  if (problems.length) throw new HostInputError(`invalid host input:\n  ${problems.map(formatProblem).join("\n  ")}`);
  const p = hostPaths(i.service.name);
  const conf = (path: string, content: string): HostFile => ({ path, content, owner: "root:root", mode: "0644" });
  return [
    conf(p.unit, renderUnit(i)),
    conf(p.envFile, renderEnvFile(i)),
    conf(p.rsyslog, renderRsyslog(i)),
    conf(p.logrotate, renderLogrotate(i)),
    conf("/etc/systemd/system/logrotate.timer.d/hourly.conf", renderLogrotateTimer()),
    ...renderDatadog(i).map((f) => conf(f.path, f.content)),
    {
      path: p.deployScript,
      content: renderDeployScript({ service: i.service, region: i.region, node: nodeBinaryPath(i.runtime.version) }),
      owner: "root:root",
      mode: "0755",
    },
    { path: p.secretsScript, content: renderSecretsScript(i), owner: "root:root", mode: "0755" },
    { path: p.bootScript, content: renderBootScript(i), owner: "root:root", mode: "0755" },
    ...renderLifecycleFiles(i).map((f) => ({ ...f, owner: "root:root" })),
  ];
}
