// cloud-init user-data of an HAProxy node (HAProxy flavor): install haproxy, write the tier's haproxy.cfg,
// check it with haproxy itself, then (re)start it. Holds no secret.
import { stringify } from "yaml";

export const haproxyConfigPath = "/etc/haproxy/haproxy.cfg";

export function renderHaproxyNodeUserData(i: { haproxyConfig: string }): string {
  const doc = {
    package_update: true,
    packages: ["haproxy"],
    write_files: [{ path: haproxyConfigPath, owner: "root:root", permissions: "0644", content: i.haproxyConfig }],
    // Debian starts haproxy with its packaged config on install; restart only once ours is valid.
    runcmd: [["haproxy", "-c", "-f", haproxyConfigPath], ["systemctl", "enable", "haproxy"], ["systemctl", "restart", "haproxy"]],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
