// rsyslog rules for the service: its journal lines go to /var/log/<service>/<service>.log and, through
// a disk-assisted queue, to Papertrail over TCP+TLS. Lines of other programs are left to the distro's rules.
import { isIP } from "node:net";
import { hostPaths } from "../contract/layout";
import { HostBase } from "./input";

/** Where the rules read from and write to; production reads the journal, tests a loopback socket. */
export interface RsyslogSite {
  /** rsyslog statements that load the input, and the `$inputname` its messages carry. */
  input: { statements: string; name: string };
  logFile: string;
  fileOwner: string;
  fileGroup: string;
  /** File holding the Papertrail action (renderPapertrailAction), written at boot from SSM. */
  forwardInclude: string;
}

/** `program`: whose log file, the service's by default (an HAProxy node passes "haproxy"). */
export function productionSite(i: HostBase, program = i.service.name): RsyslogSite {
  const p = hostPaths(i.service.name);
  return {
    // imjournal keeps its cursor in a state file, so lines logged while rsyslog restarts are read
    // afterwards instead of lost. Rate limiting off: the journal is the source of truth here.
    input: {
      statements: `module(load="imjournal" StateFile="imjournal.state" PersistStateInterval="1000" Ratelimit.Interval="0")`,
      name: "imjournal",
    },
    logFile: hostPaths(program).logFile,
    fileOwner: "root",
    fileGroup: "adm",
    forwardInclude: p.papertrailInclude,
  };
}

/** Papertrail destination `host:port`, parsed; throws one message naming the problem. */
export function parseDestination(value: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`papertrail destination must be host:port, got "${value}"`);
  return { host: m[1]!, port };
}

/**
 * The name rsyslog's x509/name check permits for a destination: the wildcard of its domain
 * (logs3.papertrailapp.com -> *.papertrailapp.com). Papertrail's certificate is a wildcard for its domain
 * (its own rsyslog instructions permit *.papertrailapp.com), and rsyslog matches permitted patterns
 * against the certificate's names without expanding a wildcard there: permitting the exact host is
 * refused ("peer name not authorized") and retried forever. The pattern still matches a certificate
 * that names the exact host. An IP address or a name of fewer than three labels is permitted as it is.
 * A shell reference `${var}` (the boot script's heredoc) becomes the same in shell: `*.${var#*.}`.
 */
export function permittedPeer(host: string): string {
  const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(host);
  if (ref) return `*.\${${ref[1]}#*.}`;
  const labels = host.split(".");
  if (isIP(host) !== 0 || labels.length < 3) return host;
  return `*.${labels.slice(1).join(".")}`;
}

/**
 * The forwarding action. Its target is a secret (a Papertrail destination is a write credential), so
 * it is not part of the rendered config: the boot script renders this text with the value from SSM
 * into a root-only 0600 file that the rules include. Host and port may be shell variable references
 * (`${...}`) for the boot script's heredoc; the text holds no other `$`, backtick or backslash than
 * those references (and the permitted peer's `${host#*.}` derived from one).
 *
 * Delivery (pipeline.e2e.test.ts): an endpoint that hangs and comes back gets every line once; one
 * that resets the connection loses what the two kernels held in flight (TCP syslog has no
 * acknowledgement; no omfwd option changes that, ResendLastMSGOnReconnect included) and receives up
 * to one dequeue batch twice, as rsyslog retries the batch whose send failed.
 */
export function renderPapertrailAction(i: HostBase, dest: { host: string; port: string | number }): string {
  const name = i.service.name;
  return `action(type="omfwd" name="${name}-papertrail"
       target="${dest.host}" port="${dest.port}" protocol="tcp"
       template="RSYSLOG_SyslogProtocol23Format"
       StreamDriver="gtls" StreamDriverMode="1"
       StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="${permittedPeer(dest.host)}"
       streamDriver.CAFile="${i.logs.caFile}"
       queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="1024"
       queue.filename="${name}-papertrail" queue.maxDiskSpace="${i.logs.queueMaxDiskSpace}"
       queue.saveOnShutdown="on" queue.checkpointInterval="1000"
       queue.discardSeverity="8" queue.maxFileSize="64m"
       action.resumeRetryCount="-1" action.resumeInterval="5")
`;
}

/** `program`: the SyslogIdentifier whose lines these rules take, the service by default. */
export function renderRsyslog(i: HostBase, site: RsyslogSite = productionSite(i), program = i.service.name): string {
  const name = program;
  return `# ${hostPaths(name).rsyslog}: rendered by host/rsyslog.ts, do not edit on the host.
# Sorts before the distro's default rules, so the service's lines stop here and stay out of /var/log/syslog.
${site.input.statements}

ruleset(name="${name}") {
  action(type="omfile" name="${name}-file" file="${site.logFile}" template="RSYSLOG_FileFormat"
         fileOwner="${site.fileOwner}" fileGroup="${site.fileGroup}" fileCreateMode="0640"
         dirOwner="${site.fileOwner}" dirGroup="${site.fileGroup}" dirCreateMode="0750")
  # Papertrail forwarding: the boot script writes this root-only file from SSM (the destination is a
  # write credential and never appears in rendered config). Without it, lines still reach the file.
  include(file="${site.forwardInclude}" mode="optional")
}

if $inputname == "${site.input.name}" then {
  if $programname == "${name}" then call ${name}
  # Other programs' entries from this input already reach rsyslog through the distro's own input.
  stop
}
# The copy of the service's lines that journald also forwards to the syslog socket.
if $programname == "${name}" then stop
`;
}
