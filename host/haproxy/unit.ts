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

export function renderHaproxyUnit(options: Partial<HaproxyUnitInput> = {}): string {
  const i = withDefaults(haproxyUnitDefaults, options);
  for (const [k, v] of Object.entries(i))
    if (!/^\/[A-Za-z0-9_./-]+$/.test(v)) throw new Error(`invalid HAProxy unit settings: ${k}: "${v}" must be an absolute path of plain characters`);
  if (!i.adminSocket.startsWith("/run/haproxy/") || !i.serverStateFile.startsWith("/var/lib/haproxy/"))
    throw new Error("invalid HAProxy unit settings: adminSocket must be under /run/haproxy/ and serverStateFile under /var/lib/haproxy/ (the unit's own writable folders)");
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
# Only what binding :80 needs.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
UMask=0027
LimitNOFILE=100000

[Install]
WantedBy=multi-user.target
`;
}
