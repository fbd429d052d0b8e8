// logrotate for the service's log folder: daily or earlier by size, compressed, bounded count. rsyslog
// is told to reopen its file after the rename (HUP), so no line is lost or copied (no copytruncate).
import { hostPaths } from "../contract/layout";
import { HostBase } from "./input";

export interface LogrotateSite {
  logDir: string;
  owner: string;
  group: string;
  /** Command that makes rsyslog reopen its files; Debian's helper HUPs rsyslog.service. */
  reopen: string;
}

/** `program`: whose log folder, the service's by default (an HAProxy node passes "haproxy"). */
export function productionLogrotateSite(i: HostBase, program = i.service.name): LogrotateSite {
  return { logDir: hostPaths(program).logDir, owner: "root", group: "adm", reopen: "/usr/lib/rsyslog/rsyslog-rotate" };
}

export function renderLogrotate(
  i: HostBase,
  site: LogrotateSite = productionLogrotateSite(i),
  program = i.service.name,
): string {
  return `# ${hostPaths(program).logrotate}: rendered by host/logrotate.ts, do not edit on the host.
${site.logDir}/*.log {
	daily
	maxsize ${i.logs.maxSize}
	rotate ${i.logs.rotate}
	missingok
	notifempty
	compress
	# rsyslog may still write to the renamed file until it reopens: compress it one rotation later.
	delaycompress
	create 0640 ${site.owner} ${site.group}
	sharedscripts
	postrotate
		${site.reopen}
	endscript
}
`;
}
