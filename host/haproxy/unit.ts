// systemd unit of HAProxy on an HAProxy node: master-worker (-Ws, Type=notify) so `systemctl reload`
// is hitless, server states saved before each reload, run unprivileged and sandboxed.
import { withDefaults } from "../../contract/defaults";

export interface HaproxyUnitInput {
  /** Paths must match the rendered haproxy.cfg (adminSocket, serverStateFile). */
  config: string;
  adminSocket: string;
  serverStateFile: string;
  haproxyBin: string;
  /** socat is what saves `show servers state` before a reload; the node's packages must include it. */
  socatBin: string;
}

export const haproxyUnitDefaults: HaproxyUnitInput = {
  config: "/etc/haproxy/haproxy.cfg",
  adminSocket: "/run/haproxy/admin.sock",
  serverStateFile: "/var/lib/haproxy/server-state",
  haproxyBin: "/usr/sbin/haproxy",
  socatBin: "/usr/bin/socat",
};

// The sandbox, measured with HAProxy 2.6 under strace through start, a stats request, an admin socket
// command, a reload and a stop: no call from @privileged, no read under /proc. PrivateDevices= keeps
// /dev/log (systemd links the journal's socket there). HAProxy listens on ports >= 1024 (the NLB target
// port), so it needs no capability and PrivateUsers= maps every other user away. MemoryDenyWriteExecute=
// stays off: Debian's HAProxy uses PCRE2 JIT, and a regex ACL would need W+X memory and fail the config
// load. systemd-analyze security rates the unit 1.2; unit.test.ts holds it at or below 1.5. The comments
// in the rendered text are terse: the node's user-data must stay under 16 KB.
export function renderHaproxyUnit(options: Partial<HaproxyUnitInput> = {}): string {
  const i = withDefaults(haproxyUnitDefaults, options);
  for (const [k, v] of Object.entries(i))
    if (!/^\/[A-Za-z0-9_./-]+$/.test(v))
      throw new Error(`invalid HAProxy unit settings: ${k}: "${v}" must be an absolute path of plain characters`);
  if (!i.adminSocket.startsWith("/run/haproxy/") || !i.serverStateFile.startsWith("/var/lib/haproxy/"))
    throw new Error(
      "invalid HAProxy unit settings: adminSocket must be under /run/haproxy/ and serverStateFile under /var/lib/haproxy/ (the unit's own writable folders)",
    );
  return `# haproxy.service: rendered by host/haproxy/unit.ts, do not edit on the host.
[Unit]
Description=HAProxy load balancer
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
ExecStartPre=${i.haproxyBin} -c -q -f ${i.config}
ExecStart=${i.haproxyBin} -Ws -f ${i.config}
# Reload: refuse a broken config, keep server states (a draining server stays down), then SIGUSR2:
# the master starts new workers on the same listeners and old ones finish their requests.
ExecReload=${i.haproxyBin} -c -q -f ${i.config}
ExecReload=-/bin/sh -c 'echo "show servers state" | ${i.socatBin} -t 2 stdio unix-connect:${i.adminSocket} > ${i.serverStateFile}.new && mv ${i.serverStateFile}.new ${i.serverStateFile}'
ExecReload=/bin/kill -USR2 $MAINPID
KillMode=mixed
Restart=always
RestartSec=1
SuccessExitStatus=143
User=haproxy
Group=haproxy
RuntimeDirectory=haproxy
RuntimeDirectoryPreserve=yes
StateDirectory=haproxy
LimitNOFILE=100000

# Sandbox (exposure 1.2). No capability: HAProxy binds ports >= 1024. No MemoryDenyWriteExecute: PCRE2 JIT.
CapabilityBoundingSet=
AmbientCapabilities=
PrivateUsers=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}
