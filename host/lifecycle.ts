// The warm-pool lifecycle check of a service host: a script and the unit that runs it on every boot, which
// complete the group's launch lifecycle hook once the service answers /readyz and runs the release this
// user-data installs. What it relies on, from AWS's documentation:
//   - "As soon as an instance finishes launching into the warm pool, Amazon EC2 Auto Scaling stops or
//     hibernates the instance. Amazon EC2 Auto Scaling does not wait for user data to finish running";
//     an EC2_INSTANCE_LAUNCHING hook holds it in Warmed:Pending:Wait until CompleteLifecycleAction, and again
//     in Pending:Wait when it restarts to leave the pool, when user data does not run again
//     (docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html).
//   - The instance reads its target state from IMDS `autoscaling/target-lifecycle-state`: InService, or
//     Warmed:Stopped / Warmed:Running / Warmed:Hibernated when it enters the pool; Terminated or
//     Warmed:Terminated once it is abandoned (.../retrieving-target-lifecycle-state-through-imds.html).
//   - IMDSv2: a PUT to /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds, then the token in
//     X-aws-ec2-metadata-token (the launch template requires tokens: components/_shared/hardenedInstance.ts).
//   - `aws autoscaling describe-auto-scaling-instances` names the instance's group (no tag in IMDS needed, so
//     no launch template <-> group cycle), `complete-lifecycle-action --instance-id` needs no token.
// A service that never gets ready is not completed: the hook's timeout applies its DefaultResult, ABANDON, so
// one clock (the hook's, set by the Fleet) decides, and the script leaves as soon as the target state changes.
// A release that is not the one this user-data installs is abandoned at once: waiting cannot fix it.
// No instance metadata at all (not on EC2, as in the VM boot test) completes nothing and is no failure: on EC2
// the hook's timeout would apply, as for a service that never starts.
// The unit is pulled in by the service unit (a drop-in Wants=), so it starts with the service on every boot and
// on the first boot when the boot script starts the service; Type=exec keeps that start from waiting on it.
import { hostPaths } from "../contract/layout";
import { HostInput } from "./input";

const q = (s: string | number) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** Name of the group's launch lifecycle hook: the Fleet creates it, the script completes it. */
export function launchHookName(service: string): string {
  return `${service}-launch`;
}

/** Where the lifecycle check lands on a host. */
export function lifecyclePaths(service: string) {
  return {
    script: `/usr/local/sbin/${service}-lifecycle`,
    unit: `/etc/systemd/system/${service}-lifecycle.service`,
    dropIn: `/etc/systemd/system/${service}.service.d/lifecycle.conf`,
  };
}

/** Where the script looks: production values, or stand-ins on loopback in tests. */
export interface LifecycleSite {
  /** IMDS base URL, up to /latest. */
  imds: string;
  readyUrl: string;
  /** The `current` link and the folder of this user-data's release. */
  current: string;
  release: string;
  /** Seconds between /readyz attempts. */
  pollSec: number;
}

export function productionLifecycleSite(i: HostInput): LifecycleSite {
  const p = hostPaths(i.service.name);
  return {
    imds: "http://169.254.169.254/latest",
    readyUrl: `http://127.0.0.1:${i.service.port}/readyz`,
    current: p.current,
    release: `${p.releases}/${i.version}`,
    pollSec: 5,
  };
}

// The rendered text is kept short: it rides in the 16 KB of user-data with every other host file
// (host/validate.test.ts). The release folder is named by the bundle's content hash (infra/host-input.ts), and the
// boot script checked the bundle's sha256 before installing it, so the link's target names the content.
export function renderLifecycleScript(i: HostInput, site: LifecycleSite = productionLifecycleSite(i)): string {
  return `#!/bin/bash
# host/lifecycle.ts: completes the launch lifecycle hook once /readyz answers
m=${q(site.imds)}
t=$(curl -sfm9 -XPUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$m/api/token") || { echo "no IMDS" >&2; exit 0; }
md() { curl -sfH "X-aws-ec2-metadata-token: $t" "$m/meta-data/$1"; }
st() { md autoscaling/target-lifecycle-state; }
s=$(st) || exit 0
case $s in InService | Warmed:[SRH]*) ;; *) exit 0 ;; esac
until curl -sfo /dev/null ${q(site.readyUrl)}; do
  n=$(st) && [ "$n" != "$s" ] && echo "now $n" >&2 && exit 0
  sleep ${site.pollSec}
done
r=CONTINUE
[ "$(readlink -f ${q(site.current)})" = "$(readlink -f ${q(site.release)})" ] || { echo "not ${i.version}" >&2; r=ABANDON; }
[ "$s" = InService ] || cloud-init status --wait >/dev/null
i=$(md instance-id) || exit 1
a() { aws autoscaling "$@" --region ${q(i.region)}; }
c() { g=$(a describe-auto-scaling-instances --instance-ids "$i" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text) &&
  a complete-lifecycle-action --auto-scaling-group-name "$g" --lifecycle-hook-name ${q(launchHookName(i.service.name))} --instance-id "$i" --lifecycle-action-result $r; }
for d in 5 10 20 40 80 0; do c && echo "$s: $r" >&2 && exit 0; sleep $d; done
exit 1
`;
}

export function renderLifecycleUnit(i: HostInput): string {
  return `[Unit]
Description=${i.service.name} launch lifecycle hook (host/lifecycle.ts)
After=network-online.target
[Service]
Type=exec
RemainAfterExit=yes
ExecStart=${lifecyclePaths(i.service.name).script}
`;
}

/** Drop-in of the service unit: starting the service starts the lifecycle check too. */
export function renderLifecycleDropIn(i: HostInput): string {
  return `[Unit]\nWants=${i.service.name}-lifecycle.service\n`;
}

/** The three files with their modes, for renderHostFiles. */
export function renderLifecycleFiles(i: HostInput): { path: string; content: string; mode: string }[] {
  const p = lifecyclePaths(i.service.name);
  return [
    { path: p.script, content: renderLifecycleScript(i), mode: "0755" },
    { path: p.unit, content: renderLifecycleUnit(i), mode: "0644" },
    { path: p.dropIn, content: renderLifecycleDropIn(i), mode: "0644" },
  ];
}
