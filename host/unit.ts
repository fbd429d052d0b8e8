// systemd unit of the service: its own user, restarted by systemd, stopped with SIGTERM inside the
// service's deadline, logs to the journal, started only once /readyz answers, sandboxed.
import type { Problem } from "../contract/problem";
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { stopTimeoutSec } from "../contract/service";
import * as net from "node:net";
import type { HostInput } from "./input";

/**
 * The EC2 instance metadata service (IPv4 and IPv6 endpoints). It hands out the instance role's
 * credentials to anyone on the host who asks; the service never needs them, root and the agents do.
 */
export const instanceMetadataAddresses = ["169.254.169.254/32", "fd00:ec2::254/128"] as const;

/** Problems with `allowOutboundOnlyTo`, each naming the field; empty when valid. */
export function checkOutboundAllowList(list: string[] | undefined): Problem[] {
  if (list === undefined) return [];
  const errors: Problem[] = [];
  if (!Array.isArray(list) || list.length === 0)
    return [{ field: "allowOutboundOnlyTo", message: "give at least one CIDR (e.g. the VPC's), or leave it unset" }];
  list.forEach((cidr, n) => {
    const [addr, bits, extra] = String(cidr).split("/");
    const family = net.isIPv4(addr ?? "") ? "ipv4" : net.isIPv6(addr ?? "") ? "ipv6" : undefined;
    const max = family === "ipv4" ? 32 : 128;
    if (!family || extra !== undefined || !/^\d{1,3}$/.test(bits ?? "") || Number(bits) > max) {
      errors.push({ field: `allowOutboundOnlyTo[${n}]`, message: `"${cidr}" must be a CIDR like 10.20.0.0/16` });
      return;
    }
    // systemd lets an allowed address through even when it is also denied: the list must not cover IMDS.
    const block = new net.BlockList();
    block.addSubnet(addr!, Number(bits), family);
    if (block.check("169.254.169.254", "ipv4") || block.check("fd00:ec2::254", "ipv6"))
      errors.push({
        field: `allowOutboundOnlyTo[${n}]`,
        message: `"${cidr}" covers the instance metadata service, which the service must not reach`,
      });
  });
  return errors;
}

/** The unit's IP filter: IMDS always denied; with an allow-list, everything but localhost and the list. */
function ipFilter(i: HostInput): string {
  const imds = instanceMetadataAddresses.join(" ");
  const deny = `# The service user must not reach the instance metadata service (the role's credentials, hence the
# secrets): root, cloud-init, the SSM agent and Datadog are outside this unit and still can.
IPAddressDeny=${imds}`;
  if (i.allowOutboundOnlyTo === undefined) return deny;
  return `${deny}
# allowOutboundOnlyTo: nothing outside localhost and these networks (an allowed address would pass even
# if denied above, so the list is checked not to cover the metadata service).
IPAddressDeny=any
IPAddressAllow=localhost ${i.allowOutboundOnlyTo.join(" ")}`;
}

/** Seconds ExecStartPost waits for /readyz before the start counts as failed. */
export const readyWaitSec = 60;

/** A `node -e` program (no curl on the image) that polls /readyz until 200 or the deadline. */
function readyProbe(port: number): string {
  // No `$` or `%` inside: systemd would expand them.
  return [
    `const end=Date.now()+${readyWaitSec * 1000};`,
    `(async()=>{for(;;){`,
    `try{if((await fetch('http://127.0.0.1:${port}/readyz')).ok)process.exit(0)}catch{}`,
    `if(Date.now()>end){console.error('not ready after ${readyWaitSec}s');process.exit(1)}`,
    `await new Promise(r=>setTimeout(r,250))}})()`,
  ].join("");
}

export function renderUnit(i: HostInput): string {
  const s = i.service;
  const p = hostPaths(s.name);
  const node = nodeBinaryPath(i.runtime.version);
  return `# ${p.unit}: rendered by host/unit.ts, do not edit on the host.
[Unit]
Description=${s.name} Node.js service (release linked at ${p.current})
Wants=network-online.target
After=network-online.target
# Crash loops stop after 10 failed starts in 5 minutes instead of spinning forever.
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=exec
User=${s.name}
Group=${s.name}
# Non-secret settings; the optional secrets file is root-only and read by systemd, not the service user.
EnvironmentFile=${p.envFile}
EnvironmentFile=-${p.secrets}/${s.name}.env
WorkingDirectory=${p.current}
ExecStart=${node} ${p.current}/server.js
# The start counts as done only once the service answers /readyz (bounded wait).
ExecStartPost=${node} -e "${readyProbe(s.port)}"
TimeoutStartSec=${readyWaitSec + 30}
Restart=on-failure
RestartSec=2
# SIGTERM to the cluster primary only: it drains and stops its workers itself; whatever is left when
# TimeoutStopSec (service deadline + margin) runs out gets SIGKILL.
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=${stopTimeoutSec(s)}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=${s.name}
# journald must not drop request lines under load: rsyslog and Datadog read them from the journal.
LogRateLimitIntervalSec=0

# Sandbox. systemd-analyze security rates this unit 1.1 (1.0 with allowOutboundOnlyTo); validate.test.ts
# holds it at or below 1.5.
# Node's JIT needs writable+executable memory, so MemoryDenyWriteExecute stays off; everything else
# the service needs is TCP/UDP (HTTP, DogStatsD), unix sockets (cluster IPC) and reading its release.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateMounts=yes
PrivateDevices=yes
DevicePolicy=closed
PrivateUsers=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
KeyringMode=private
UMask=0077
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
# V8 asks for memory protection keys at start; outside @system-service they would fail with EPERM and
# V8 would silently run without them (unit.sandbox.test.ts).
SystemCallFilter=pkey_alloc pkey_free pkey_mprotect
# A blocked call fails with EPERM (libuv then falls back) instead of killing the process.
SystemCallErrorNumber=EPERM
${ipFilter(i)}

[Install]
WantedBy=multi-user.target
`;
}
