// Secret rotation on the local fleet, as close to the stacks' paths as loopback allows. On AWS a new value put in
// SSM raises its parameter's version, and the secrets revision (components/secrets secretsRevision) changes:
//   - ALB flavor: the fleet's launch template tags each instance with the revision, so a new value is a new
//     launch template version and the instance refresh replaces every host, each new host's boot reading it;
//   - HAProxy flavor: the revision is a parameter of the rollout association, which runs on each service host,
//     one at a time, the secrets script (--restart) and then the deploy step on the running release.
// Here, the HAProxy flavor's path, with the rendered scripts themselves:
//   - a Parameter Store stand-in: a root-only folder of parameters with versions, and an `aws` executable that
//     answers `aws ssm get-parameter --with-decryption` from it, as the secrets script calls it;
//   - each host's "instance tags" (tags.json in its root), with the revision it last read;
//   - a host's rotation: the rendered secrets script (host/secrets.ts) run into the host's root-only secret
//     folder (SECRETS_DIR), then its service restarted through its deploy script on the running release
//     (HAProxy-aware: the host is back UP before the next one starts), one host at a time, stopping at the
//     first that fails.
// What it cannot show: the consumers of the values (rsyslog and the Datadog agent do not run on the local fleet,
// so --restart is not passed; host/secrets.test.ts checks what it restarts) and the ALB flavor's new instances.
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { ssmParameterNames } from "../../contract/layout";
import { nodeRuntime } from "../../contract/runtime";
import { secretsRevision } from "../../components/secrets/rules";
import { secretsRevisionTagKey } from "../../components/fleet/rules";
import { HostInput, withHostDefaults } from "../../host/input";
import { renderSecretsScript } from "../../host/secrets";
import { tool } from "../../test/support/tools";
import { HostDeploy, currentRelease, deploy } from "./deploy";
import { FleetError, FleetState, HostState, hostLayout } from "./state";

/** The local fleet's env: part of its parameter names, as a stack's env is. */
export const localEnv = "local";

/** A parameter's file name in the stand-in's folder: its name with each `/` as %2F. */
const fileOf = (name: string) => name.replaceAll("/", "%2F");

/** Parameter Store, for the hosts of one local fleet: SecureString values with versions, readable by root only. */
export class ParameterStoreStandIn {
  /** Folder to put first on PATH: its `aws` answers `aws ssm get-parameter` from this store. */
  readonly bin: string;
  private readonly params: string;

  constructor(readonly dir: string) {
    this.params = path.join(dir, "parameters");
    this.bin = path.join(dir, "bin");
    fs.mkdirSync(this.params, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.bin, { recursive: true });
    fs.writeFileSync(path.join(this.bin, "aws"), awsStandIn(this.params), { mode: 0o755 });
  }

  /** PutParameter --overwrite: the value replaces the old one and the version goes up by one; returns it. */
  put(name: string, value: string): number {
    const version = this.version(name) + 1;
    const base = path.join(this.params, fileOf(name));
    const tmp = `${base}.tmp`;
    fs.writeFileSync(tmp, `${value}\n`, { mode: 0o600 });
    fs.renameSync(tmp, `${base}.value`);
    fs.writeFileSync(`${base}.version`, String(version));
    return version;
  }

  /** The parameter's version; 0 when it was never put. */
  version(name: string): number {
    try {
      return Number(fs.readFileSync(path.join(this.params, `${fileOf(name)}.version`), "utf8"));
    } catch {
      return 0;
    }
  }
}

/**
 * `aws ssm get-parameter --region <r> --with-decryption --name <n> --query Parameter.Value --output text`, as the
 * secrets script runs it (host/secrets.ts ssm_get), answered from the store; anything else is refused.
 */
function awsStandIn(params: string): string {
  return `#!/bin/bash
# Stand-in for the AWS CLI's ssm get-parameter, answering from the local fleet's Parameter Store stand-in.
set -euo pipefail
[ "\${1:-} \${2:-}" = "ssm get-parameter" ] || { echo "aws stand-in: only ssm get-parameter: $*" >&2; exit 252; }
name=""; decrypt=""
while [ $# -gt 0 ]; do
  case "$1" in --name) name="$2"; shift ;; --with-decryption) decrypt=1 ;; esac
  shift
done
[ -n "$decrypt" ] || { echo "aws stand-in: a SecureString read without --with-decryption" >&2; exit 252; }
file='${params}'/"\${name//\\//%2F}".value
[ -f "$file" ] || { echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: $name" >&2; exit 254; }
cat "$file"
`;
}

/** The names of the local fleet's parameters, by their secretsRevision key (the names' last segment). */
export function localParameters(state: FleetState): { "datadog-api-key": string; "papertrail-destination": string } {
  const n = ssmParameterNames(state.service.name, localEnv);
  return { "datadog-api-key": n.datadogApiKey, "papertrail-destination": n.papertrailDestination };
}

/** The revision of the store's values, as the stack computes it from the parameters' versions. */
export function storeRevision(state: FleetState, store: ParameterStoreStandIn): string {
  const versions = Object.fromEntries(Object.entries(localParameters(state)).map(([k, n]) => [k, store.version(n)]));
  return secretsRevision(versions);
}

/** The host input the secrets script is rendered from: only its names matter to it. */
function localHostInput(state: FleetState): HostInput {
  return withHostDefaults({
    env: localEnv,
    service: state.service,
    version: "local",
    bundle: { url: `s3://local-fleet/${state.service.name}/server.js`, sha256: "0".repeat(64) },
    runtime: {
      url: `s3://local-fleet/runtimes/${nodeRuntime.sha256.x64}`,
      sha256: nodeRuntime.sha256.x64,
      version: nodeRuntime.version,
    },
  });
}

/** Runs the rendered secrets script on a host against the store: its root-only files get the store's values. */
export function runSecretsScript(
  state: FleetState,
  h: HostState,
  store: ParameterStoreStandIn,
): { ok: boolean; output: string } {
  const dir = hostLayout(h.root, state.service.name).secrets;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const r = spawnSync(tool("bash"), ["-c", renderSecretsScript(localHostInput(state)), "secrets"], {
    encoding: "utf8",
    env: { PATH: `${store.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, SECRETS_DIR: dir },
  });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

const tagsFile = (h: HostState) => path.join(h.root, "tags.json");

/** The host's instance tags: what its launch template gave it. */
export function hostTags(h: HostState): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(tagsFile(h), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

function tagHost(h: HostState, revision: string): void {
  fs.writeFileSync(tagsFile(h), JSON.stringify({ ...hostTags(h), [secretsRevisionTagKey]: revision }));
}

/** What the first boot of every host does with the secrets: reads them, and carries the revision as a tag. */
export function bootSecrets(state: FleetState, store: ParameterStoreStandIn): string {
  const revision = storeRevision(state, store);
  for (const h of state.hosts) {
    const r = runSecretsScript(state, h, store);
    if (!r.ok) throw new FleetError(`the secrets script failed on ${h.name}:\n${r.output.trimEnd()}`);
    tagHost(h, revision);
  }
  return revision;
}

export interface RotationResult {
  /** The store's revision the hosts were brought to. */
  revision: string;
  ok: boolean;
  durationMs: number;
  /** The hosts rotated (or the one that failed), in order. */
  replaced: HostDeploy[];
  /** The hosts already on the revision, left alone. */
  unchanged: string[];
}

/**
 * The rollout of a new secrets revision: each host not tagged with the store's revision in turn runs the secrets
 * script, then its service is restarted and ready behind HAProxy (the deploy step on the running release); stops
 * at the first failure, leaving the hosts after it as they were.
 */
export async function rotateSecrets(
  state: FleetState,
  store: ParameterStoreStandIn,
  o: { readyTimeoutSec?: number; onLog?: (line: string) => void } = {},
): Promise<RotationResult> {
  const revision = storeRevision(state, store);
  const t0 = performance.now();
  const replaced: HostDeploy[] = [];
  const unchanged: string[] = [];
  for (const h of state.hosts) {
    if (hostTags(h)[secretsRevisionTagKey] === revision) {
      unchanged.push(h.name);
      continue;
    }
    const started = performance.now();
    const secrets = runSecretsScript(state, h, store);
    if (!secrets.ok) {
      replaced.push({
        host: h.name,
        ok: false,
        durationMs: Math.round(performance.now() - started),
        output: secrets.output,
      });
      break;
    }
    // The running release again: the deploy script only restarts it, drained and back UP before it returns.
    const version = path.basename(currentRelease(h, state.service.name));
    const bundle = path.join(hostLayout(h.root, state.service.name).releases, version, "server.js");
    const r = await deploy(
      { ...state, hosts: [h] },
      { bundle, version, readyTimeoutSec: o.readyTimeoutSec, onLog: o.onLog },
    );
    const host = r.hosts[0] ?? { host: h.name, ok: false, durationMs: 0, output: "not run" };
    replaced.push({ ...host, durationMs: Math.round(performance.now() - started) });
    if (!r.ok) break;
    tagHost(h, revision);
  }
  return {
    revision,
    ok: replaced.every((r) => r.ok) && replaced.length + unchanged.length === state.hosts.length,
    durationMs: Math.round(performance.now() - t0),
    replaced,
    unchanged,
  };
}
