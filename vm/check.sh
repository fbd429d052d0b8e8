#!/bin/bash
# Runs inside the test VM once cloud-init is done (vmtest-check.service), from the read-only data disk.
# Observes the booted host and drives the service, writing "=== section" blocks to the second serial
# port (/dev/ttyS1) for vm/boot.test.ts to assert on. It asserts nothing itself.
# Inputs beside it: check.env (SERVICE, PORT, MODE (full, smoke or refused), BOOT_TAG (the boot script's
# journal tag), the host layout's paths, the releases to deploy),
# files.tsv (path owner mode sha256 of every rendered file), secrets.txt (marker values, one a line),
# burst.js, releases/ (bundles of later releases).
set -u
here=$(dirname "$0")
# shellcheck source=/dev/null
. "$here/check.env"
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null || true
echo "VMTEST-CHECK-START uptime=$(cut -d' ' -f1 /proc/uptime)"
section() { printf '=== %s\n' "$1" >&3; echo "vmtest-check: $1"; }
out() { cat >&3; }

section uptime
cut -d' ' -f1 /proc/uptime | out

section cloud-init-status
cloud-init status --long 2>&1 | out
section cloud-init-result
out </run/cloud-init/result.json 2>&1
section cloud-init-output
tail -n 40 /var/log/cloud-init-output.log 2>&1 | out
section user-data
sha256sum /var/lib/cloud/instance/user-data.txt | cut -d' ' -f1 | out
section failed-units
systemctl list-units --failed --plain --no-legend 2>&1 | out

if [ "${MODE:-full}" = smoke ]; then
  section end
  exit 0
fi

# A boot that was meant to fail (a tampered package): what is left running, and what the boot said.
if [ "${MODE:-full}" = refused ]; then
  section refused
  {
    echo "readyz=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")"
    echo "serviceActive=$(systemctl is-active "$SERVICE.service" 2>&1)"
    echo "serviceEnabled=$(systemctl is-enabled "$SERVICE.service" 2>&1)"
    echo "ssmAgent=$(dpkg-query -W -f '${Version}' amazon-ssm-agent 2>/dev/null || echo none)"
    echo "datadogAgent=$(dpkg-query -W -f '${Version}' datadog-agent 2>/dev/null || echo none)"
    echo "runtime=$([ -e /opt/node ] && echo present || echo absent)"
    echo "cloudFinal=$(systemctl show -p Result --value cloud-final.service)"
  } | out
  section boot-log
  journalctl -b -o cat -t "$BOOT_TAG" | out
  section boot-output
  grep -aE 'gpgv|signature|ssm-agent' /var/log/cloud-init-output.log | tail -n 20 | out
  section end
  exit 0
fi

url="http://127.0.0.1:$PORT"
log_dir="/var/log/$SERVICE"
log_file="$log_dir/$SERVICE.log"
code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$url$1"; }
# requests tagged probe-<tag>, one at a time; prints "tag status seconds" per request
requests() { # prefix count
  local i tag
  for i in $(seq -w 1 "$2"); do
    tag="$1-$i"
    echo "$tag $(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' "$url/api/status?probe-$tag")"
  done
}
# waits until the log files hold a line for every tag in the given file, at most $2 seconds
wait_logged() { # tags_file seconds
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    if cat "$log_dir"/*.log* 2>/dev/null | grep -oF -f "$1" | sort -u | cmp -s - <(sort -u "$1"); then return 0; fi
    sleep 1
  done
  return 1
}
# how many lines of each log file carry each tag: "file tag count"
tag_counts() { # tags_file
  local f t
  for f in "$log_dir"/*.log*; do
    while read -r t; do printf '%s %s %s\n' "$(basename "$f")" "$t" "$(grep -cF "$t\"" "$f")"; done <"$1"
  done
}

section files
while IFS=$'\t' read -r path owner mode sha; do
  if [ -e "$path" ]; then
    printf '%s\t%s\t%s\t%s\n' "$path" "$(stat -c '%U:%G' "$path")" "$(stat -c '%04a' "$path")" "$(sha256sum "$path" | cut -d' ' -f1)"
  else
    printf '%s\tmissing\t-\t-\n' "$path"
  fi
  : "$owner" "$mode" "$sha"
done <"$here/files.tsv" | out

section unit
systemctl show "$SERVICE.service" -p ActiveState -p SubState -p User -p Group -p NoNewPrivileges -p ProtectSystem \
  -p ProtectHome -p PrivateTmp -p PrivateDevices -p PrivateUsers -p CapabilityBoundingSet -p RestrictAddressFamilies \
  -p SystemCallFilter -p MainPID -p NRestarts -p TimeoutStopUSec -p UnitFileState | out
section process
pid=$(systemctl show -p MainPID --value "$SERVICE.service")
{
  echo "user=$(ps -o user= -p "$pid")"
  grep -E '^(NoNewPrivs|CapBnd|CapEff|Seccomp):' "/proc/$pid/status" | tr -d '\t' | sed 's/:/=/'
  echo "workers=$(pgrep -c -P "$pid")"
} | out
section readyz
{ code /readyz; echo; } | out
section service-log
journalctl -b --no-pager -o short-monotonic -u "$SERVICE.service" | head -n 40 | out

section other-units
systemctl is-active rsyslog.service logrotate.timer datadog-agent.service amazon-ssm-agent.service 2>&1 | paste -sd' ' | out

# --- boot to ready: from cloud-init's start to the service's first /readyz 200, on the VM's monotonic clock
# (microseconds since the kernel started). The unit's start job finishes when its ExecStartPost has seen
# /readyz answer 200 (it polls every 250 ms), so systemd's first "Started" of the unit is that moment. ---
section boot-to-ready
{
  echo "cloudInitStartUs=$(systemctl show -p InactiveExitTimestampMonotonic --value cloud-init-local.service)"
  echo "firstReadyUs=$(journalctl -b -o export UNIT="$SERVICE.service" MESSAGE_ID=39f53479d3a045ac8e11786248231fbf |
    awk -F= '$1 == "__MONOTONIC_TIMESTAMP" { print $2; exit }')"
  echo "cloudFinalDoneUs=$(systemctl show -p ActiveEnterTimestampMonotonic --value cloud-final.service)"
} | out

# --- what the boot installed: the runtime the service runs (from S3, owned by no package), the agents
# (from the stand-in signed sources) and how their units fared ---
section runtime
exe=$(readlink "/proc/$pid/exe")
{
  echo "exe=$exe"
  echo "sha256=$(sha256sum "$exe" | cut -d' ' -f1)"
  echo "version=$("$exe" --version)"
  echo "package=$(dpkg -S "$exe" 2>/dev/null | cut -d: -f1 || true)"
} | out
section agents
for unit in datadog-agent amazon-ssm-agent; do
  echo "$unit.version=$(dpkg-query -W -f '${Version}' "$unit" 2>/dev/null || echo none)"
  echo "$unit.enabled=$(systemctl is-enabled "$unit.service" 2>&1)"
  echo "$unit.active=$(systemctl is-active "$unit.service" 2>&1)"
  echo "$unit.restarts=$(systemctl show -p NRestarts --value "$unit.service")"
  echo "$unit.failedStarts=$(journalctl -b -o cat -u "$unit.service" | grep -c 'no API key configured' || true)"
done | out
section agent-log
journalctl -b --no-pager -o short-monotonic -u datadog-agent.service -u amazon-ssm-agent.service | tail -n 30 | out
section apt-sources
grep -rh '^deb' /etc/apt/sources.list.d/ 2>/dev/null | out

# --- instance metadata: root is served, the service unit is refused by its IPAddressDeny. The VM has no
# metadata service, so a root-run HTTP responder on the metadata addresses (added to lo) stands in for it.
# The unit's filter drops the service's packets to those addresses: a TCP connect then times out (the SYN
# is dropped and retried), and a UDP send fails at once with EPERM, which no network answer produces. So
# "blocked" means: HTTP failed and a datagram to the same address was refused with EPERM. ---
imds_probe='
import errno, http.client, socket, sys
host = sys.argv[1]
name = lambda e: errno.errorcode.get(e.errno or 0, type(e).__name__)
try:
    c = http.client.HTTPConnection(host, 80, timeout=3)
    c.request("GET", "/latest/meta-data/instance-id")
    r = c.getresponse()
    print("ok" if r.status == 200 and r.read().strip() == b"i-vmtest-imds" else "http-%d" % r.status)
except OSError as e:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socket.socket(family, socket.SOCK_DGRAM).sendto(b"probe", (host, 80))
        udp = "sent"
    except OSError as u:
        udp = name(u)
    print("blocked" if udp == "EPERM" else "error-http-%s-udp-%s" % (name(e), udp))
'
imds_root=$(mktemp -d)
mkdir -p "$imds_root/latest/meta-data"
echo i-vmtest-imds >"$imds_root/latest/meta-data/instance-id"
ip addr add 169.254.169.254/32 dev lo
ip -6 addr add fd00:ec2::254/128 dev lo nodad
python3 -m http.server 80 --bind 169.254.169.254 --directory "$imds_root" >/dev/null 2>&1 &
imds4=$!
python3 -m http.server 80 --bind fd00:ec2::254 --directory "$imds_root" >/dev/null 2>&1 &
imds6=$!
for _ in $(seq 1 30); do
  [ "$(python3 -c "$imds_probe" 169.254.169.254)" = ok ] && [ "$(python3 -c "$imds_probe" fd00:ec2::254)" = ok ] && break
  sleep 1
done
# The probe as the service user inside the running service's cgroup, where the unit's IP filter applies.
svc_cgroup=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
in_service() {
  if [ "${pid:-0}" = 0 ]; then echo "no-service-process"; return; fi
  sh -c 'echo $$ >"$1/cgroup.procs" && exec setpriv --reuid="$2" --regid="$2" --clear-groups python3 -c "$3" "$4"' \
    sh "$svc_cgroup" "$SERVICE" "$imds_probe" "$1"
}
section imds
{
  echo "cgroup=$svc_cgroup"
  echo "IPAddressDeny=$(systemctl show -p IPAddressDeny --value "$SERVICE.service")"
  echo "root=$(python3 -c "$imds_probe" 169.254.169.254)"
  echo "root6=$(python3 -c "$imds_probe" fd00:ec2::254)"
  echo "service=$(in_service 169.254.169.254 2>&1)"
  echo "service6=$(in_service fd00:ec2::254 2>&1)"
  # control: the same user outside the unit is served, so "blocked" comes from the unit's filter
  echo "serviceUserOutsideUnit=$(setpriv --reuid="$SERVICE" --regid="$SERVICE" --clear-groups python3 -c "$imds_probe" 169.254.169.254 2>&1)"
} | out
kill "$imds4" "$imds6" 2>/dev/null
wait "$imds4" "$imds6" 2>/dev/null
ip addr del 169.254.169.254/32 dev lo
ip -6 addr del fd00:ec2::254/128 dev lo
rm -rf "$imds_root"

# --- logs: journal -> rsyslog -> file; a forced rotation in the middle of a stream of requests ---
tmp=$(mktemp -d)
requests a 20 >"$tmp/a.res"
cut -d' ' -f1 "$tmp/a.res" | sed 's/^/probe-/' >"$tmp/a.tags"
wait_logged "$tmp/a.tags" 90
requests c 60 >"$tmp/c.res" &
stream=$!
sleep 2
section logrotate
logrotate -f "/etc/logrotate.d/$SERVICE" 2>&1 | out
find "$log_dir" -maxdepth 1 -type f -printf "%f %s\n" | out
wait "$stream"
requests b 20 >"$tmp/b.res"
cut -d' ' -f1 "$tmp/b.res" | sed 's/^/probe-/' >"$tmp/b.tags"
cut -d' ' -f1 "$tmp/c.res" | sed 's/^/probe-/' >"$tmp/c.tags"
cat "$tmp/a.tags" "$tmp/b.tags" "$tmp/c.tags" >"$tmp/all.tags"
wait_logged "$tmp/all.tags" 90
section log-responses
cat "$tmp/a.res" "$tmp/c.res" "$tmp/b.res" | out
section log-counts
tag_counts "$tmp/all.tags" | out
section log-sample
tail -n 2 "$log_file" | out

# --- Papertrail unreachable (no network): lines wait in the disk-assisted queue, saved on stop ---
# distinct matches of a pattern in the saved queue (rsyslog stores each message's text more than once)
queue_count() { cat /var/spool/rsyslog/"$SERVICE"-papertrail.0* 2>/dev/null | grep -aoE "$1" | sort -u | wc -l; }
queue_state() {
  echo "tagged_a=$(queue_count 'probe-a-[0-9]+')"
  echo "tagged_q2=$(queue_count 'probe-q2-[0-9]+')"
  echo "requests=$(queue_count '"requestId":"[^"]+"')"
}
systemctl stop rsyslog.service
section queue-1
{ queue_state; find /var/spool/rsyslog -maxdepth 1 -type f -printf "%f %s\n"; } | out
systemctl start rsyslog.service
requests q2 30 >"$tmp/q2.res"
cut -d' ' -f1 "$tmp/q2.res" | sed 's/^/probe-/' >"$tmp/q2.tags"
logged=no
wait_logged "$tmp/q2.tags" 90 && logged=yes
systemctl stop rsyslog.service
section queue-2
{ echo "logged=$logged"; queue_state; find /var/spool/rsyslog -maxdepth 1 -type f -printf "%f %s\n"; } | out
systemctl start rsyslog.service
section queue-responses
out <"$tmp/q2.res"
section rsyslog-errors
journalctl -u rsyslog.service -b --no-pager -o cat | tail -n 20 | out

# --- graceful stop during a burst of slow requests ---
"$exe" "$here/burst.js" "$url/api/slow?ms=15000" 16 >"$tmp/burst.json" 2>"$tmp/burst.err" &
burst=$!
for _ in $(seq 1 120); do grep -q '"allSent"' "$tmp/burst.json" 2>/dev/null && break; sleep 0.5; done
start_ms=$(date +%s%3N)
systemctl stop "$SERVICE.service"
stop_ms=$(( $(date +%s%3N) - start_ms ))
wait "$burst"
section stop
echo "stopMs=$stop_ms" | out
systemctl show "$SERVICE.service" -p ActiveState -p Result -p ExecMainCode -p ExecMainStatus -p TimeoutStopUSec | out
section burst
cat "$tmp/burst.json" "$tmp/burst.err" | out

# --- kill -9 of the primary: systemd restarts it ---
systemctl start "$SERVICE.service"
old=$(systemctl show -p MainPID --value "$SERVICE.service")
before=$(systemctl show -p NRestarts --value "$SERVICE.service")
kill -9 "$old"
new=0 ready=000
for _ in $(seq 1 120); do
  new=$(systemctl show -p MainPID --value "$SERVICE.service")
  # ready: /readyz answers and the unit's ExecStartPost (its own readiness wait) has finished
  if [ "$new" != 0 ] && [ "$new" != "$old" ]; then
    ready=$(code /readyz)
    [ "$ready" = 200 ] && [ "$(systemctl show -p ActiveState --value "$SERVICE.service")" = active ] && break
  fi
  sleep 1
done
section kill
{
  echo "oldPid=$old"; echo "newPid=$new"; echo "readyz=$ready"
  echo "restartsBefore=$before"; echo "restartsAfter=$(systemctl show -p NRestarts --value "$SERVICE.service")"
  echo "activeState=$(systemctl show -p ActiveState --value "$SERVICE.service")"
} | out

# --- releases: the boot installed release 1 through the deploy script; then deploy, roll back, deploy
# again and roll back twice through the same script. One line per step: the script's exit code, what
# current and previous name, whether current resolves to an installed release, the folder the running
# service was started from, /readyz and the unit's state.
# yes: the link resolves to an installed release; no: it dangles; -: there is no link
link_state() { if [ -s "$1/server.js" ]; then echo yes; elif [ -L "$1" ]; then echo no; else echo -; fi; }
release_state() { # step exit_code
  local main
  main=$(systemctl show -p MainPID --value "$SERVICE.service")
  printf 'step=%s exit=%s current=%s previous=%s installed=%s previousInstalled=%s running=%s readyz=%s active=%s\n' \
    "$1" "$2" "$(readlink "$CURRENT" || echo -)" "$(readlink "$PREVIOUS" || echo -)" "$(link_state "$CURRENT")" \
    "$(link_state "$PREVIOUS")" "$(readlink "/proc/$main/cwd" || echo -)" "$(code /readyz)" \
    "$(systemctl is-active "$SERVICE.service")"
}
release_step() { # step deploy-script-arguments...
  local step=$1 rc=0 t0
  shift
  t0=$(date +%s%3N)
  echo "--- $step: $*" >>"$tmp/deploy.log"
  "$DEPLOY_SCRIPT" "$@" >>"$tmp/deploy.log" 2>&1 || rc=$?
  release_state "$step" "$rc"
  echo "$step $(( $(date +%s%3N) - t0 ))" >>"$tmp/release-ms"
}
section boot-release
grep -E "installing release|deploy\[$SERVICE\]" /var/log/cloud-init-output.log | out
{
  release_state boot -
  release_step deploy --source "file://$here/releases/$RELEASE_2.js" --sha256 "$RELEASE_2_SHA256" --version "$RELEASE_2"
  release_step rollback --rollback
  release_step deploy-again --source "$here/releases/$RELEASE_3.js" --sha256 "$RELEASE_3_SHA256" --version "$RELEASE_3"
  release_step rollback-1 --rollback
  release_step rollback-2 --rollback
} >"$tmp/releases"
section releases
out <"$tmp/releases"
section release-ms
out <"$tmp/release-ms"
section deploy-log
tail -n 60 "$tmp/deploy.log" | out

# --- secrets: each marker value in exactly one file on the instance's disk (and /run, /tmp) ---
section secrets
while read -r marker; do
  [ -n "$marker" ] || continue
  for dir in / /run; do
    find "$dir" -xdev -type f -print0 2>/dev/null | xargs -0 grep -lsaF -e "$marker" 2>/dev/null
  done | sort -u | while read -r f; do printf '%s\t%s\t%s\t%s\n' "$marker" "$f" "$(stat -c '%U:%G' "$f")" "$(stat -c '%04a' "$f")"; done
done <"$here/secrets.txt" >/dev/shm/secret-hits
out </dev/shm/secret-hits
# where a value shows up, the text around it (for the failure message; the serial port is not on disk)
section secrets-context
while IFS=$'\t' read -r marker f _; do
  grep -aoE ".{0,160}$marker.{0,60}" "$f" | head -n 50 | sed "s|^|$f: |"
done </dev/shm/secret-hits | out

rm -rf "$tmp"
section end
