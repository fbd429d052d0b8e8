// systemd unit of the service: its own user, restarted by systemd, stopped with SIGTERM inside the
// service's deadline, logs to the journal, started only once /readyz answers, sandboxed.
import { hostPaths } from "../contract/layout";
import { stopTimeoutSec } from "../contract/service";
import { HostInput } from "./input";

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
ExecStart=/usr/bin/node ${p.current}/server.js
# The start counts as done only once the service answers /readyz (bounded wait).
ExecStartPost=/usr/bin/node -e "${readyProbe(s.port)}"
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

# Sandbox. Node's JIT needs writable+executable memory, so MemoryDenyWriteExecute stays off;
# everything else the service needs is TCP/UDP (HTTP, DogStatsD), unix sockets (cluster IPC) and
# reading its release.
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
# A blocked call fails with EPERM (libuv then falls back) instead of killing the process.
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`;
}
