// Code and secret rollout: an SSM Command document runs, on each service host, the secrets script
// (host/secrets.ts, with --restart) and then the per-host deploy script (host/deploy/script.ts) with the
// bundle's URL, sha256 and version; an association targets the fleet by tag with max concurrency 1 (or a
// batch) and max errors 0, so a new bundle or a new secrets revision re-runs it host by host and stops at
// the first host that fails. That host's deploy script rolls it back (a refused secret changes nothing);
// the hosts after it keep what they had. The same release deployed again is the deploy step's restart,
// which is how the service hosts, fixed instances that never re-read their user-data, take a new secret.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { nodeOnPath } from "../../contract/layout";
import { ServiceSettings } from "../../contract/service";
import { renderDeployScript, withDeployDefaults } from "../../host/deploy/script";
import { retryPolicy } from "../../host/retry";

export interface RolloutArgs {
  service: ServiceSettings;
  /** Value of the service hosts' `Fleet` tag. */
  fleetTag: string;
  /** The service hosts: the association waits for them to exist. */
  hosts: aws.ec2.Instance[];
  bundleUrl: pulumi.Input<string>;
  bundleSha256: pulumi.Input<string>;
  version: pulumi.Input<string>;
  /** Hosts deployed at once (SSM max concurrency). */
  batch: pulumi.Input<string>;
  /**
   * The service hosts' secrets script (host/secrets.ts renderSecretsScript) and the secrets revision
   * (Secrets.revision): a new revision re-runs the association, each host reading the new values before its
   * restart. Undefined: the document deploys only.
   */
  secrets?: { script: pulumi.Input<string>; revision: pulumi.Input<string> };
  tags: Record<string, string>;
}

/**
 * Bound of one host's run, seconds: the secrets script's two reads and the bundle's download (each within
 * retryPolicy's budget), then the restart and the wait until ready, with room for a rollback's.
 */
export function hostRunTimeoutSec(readyTimeoutSec: number, secrets: boolean): number {
  return (secrets ? 3 : 1) * retryPolicy.budgetSec + 2 * readyTimeoutSec + 120;
}

/** The document `<name>-deploy` and the association `<name>-rollout`. */
export function rollout(
  name: string,
  a: RolloutArgs,
  parent: pulumi.Resource,
): { document: aws.ssm.Document; association: aws.ssm.Association } {
  const deploy = withDeployDefaults({ service: a.service });
  // The link the boot keeps to the host's runtime: hosts booted with any runtime version have it.
  const script = renderDeployScript({ service: a.service, node: nodeOnPath });
  const timeoutSec = hostRunTimeoutSec(deploy.readyTimeoutSec, a.secrets !== undefined);
  const document = new aws.ssm.Document(
    `${name}-deploy`,
    {
      documentType: "Command",
      documentFormat: "JSON",
      content: pulumi
        .all([aws.getRegionOutput({}, { parent }).region, a.secrets?.script])
        .apply(([region, secretsScript]) =>
          JSON.stringify(deployDocument(script, timeoutSec, region, secretsScript), null, 2),
        ),
      tags: a.tags,
    },
    { parent },
  );
  const association = new aws.ssm.Association(
    `${name}-rollout`,
    {
      name: document.name,
      targets: [{ key: "tag:Fleet", values: [a.fleetTag] }],
      parameters: {
        bundleUrl: a.bundleUrl,
        bundleSha256: a.bundleSha256,
        version: a.version,
        ...(a.secrets ? { secretsRevision: a.secrets.revision } : {}),
      },
      maxConcurrency: a.batch,
      // Stop at the first host that fails: it rolled itself back, the rest keep the old release.
      maxErrors: "0",
      applyOnlyAtCronInterval: false,
      complianceSeverity: "HIGH",
      // `pulumi up` returns only once every host runs the release (or fails when one could not).
      waitForSuccessTimeoutSeconds: a.hosts.length * (timeoutSec + 60),
    },
    { parent, dependsOn: a.hosts },
  );
  return { document, association };
}

/** Parameter values the document accepts: its scripts' own checks, so nothing else reaches the shell. */
export const documentPatterns = {
  bundleUrl: "^s3://[a-z0-9][a-z0-9.-]{1,62}/[A-Za-z0-9/._-]+$",
  bundleSha256: "^[0-9a-f]{64}$",
  version: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  // components/secrets secretsRevision: `<parameter>:<version>/...`, never a value
  secretsRevision: "^[a-z0-9-]+:[1-9][0-9]{0,9}(/[a-z0-9-]+:[1-9][0-9]{0,9})*$",
} as const;

/**
 * SSM Command document (schema 2.2) running, with secretsScript, the secrets script (--restart) and then
 * the deploy script with the release's parameters; a failure of either stops the host's run there. The
 * parameters' patterns are the scripts' own checks, so nothing but a URL, a hex digest, a version id and
 * a secrets revision ever reaches the shell.
 */
export function deployDocument(
  script: string,
  timeoutSeconds: number,
  region: string,
  secretsScript?: string,
): Record<string, unknown> {
  // SSM would fill in `{{ name }}` anywhere in the commands, the scripts' text included.
  const scripts: [string, string][] = [["deploy", script]];
  if (secretsScript) scripts.push(["secrets", secretsScript]);
  for (const [what, text] of scripts)
    if (text.includes("{{")) throw new Error(`the ${what} script holds "{{", which SSM would take for a parameter`);
  const heredoc = (file: string, end: string, text: string) => [
    `cat > "$${file}" <<'${end}'`,
    ...text.replace(/\n$/, "").split("\n"),
    end,
  ];
  return {
    schemaVersion: "2.2",
    description: secretsScript
      ? "Read the secrets from SSM (restarting what reads a changed one), then deploy one release of the service on this host: fetch, verify, switch, restart, wait for ready, roll back on failure."
      : "Deploy one release of the service on this host: fetch, verify, switch, restart, wait for ready, roll back on failure.",
    parameters: {
      bundleUrl: { type: "String", description: "s3:// URL of the bundle", allowedPattern: documentPatterns.bundleUrl },
      bundleSha256: {
        type: "String",
        description: "sha256 of the bundle, hex",
        allowedPattern: documentPatterns.bundleSha256,
      },
      version: { type: "String", description: "Release id", allowedPattern: documentPatterns.version },
      ...(secretsScript
        ? {
            secretsRevision: {
              type: "String",
              description: "Parameter Store versions of the secrets (never a value): a new one re-runs the rollout",
              allowedPattern: documentPatterns.secretsRevision,
            },
          }
        : {}),
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "deploy",
        inputs: {
          timeoutSeconds: String(timeoutSeconds),
          // SSM runs these lines with /bin/sh (dash on Debian): POSIX only; the scripts themselves are bash.
          runCommand: [
            "set -eu",
            `export AWS_DEFAULT_REGION=${region}`,
            // A new instance gets the association while its first boot may still run: wait for it.
            "if command -v cloud-init >/dev/null 2>&1; then",
            "  rc=0; cloud-init status --wait >/dev/null || rc=$?",
            '  if [ "$rc" -eq 1 ]; then echo "cloud-init failed on this host: not deploying" >&2; exit 1; fi',
            "fi",
            ...(secretsScript
              ? [
                  'script="$(mktemp)"; secrets="$(mktemp)"',
                  'trap \'rm -f "$script" "$secrets"\' EXIT',
                  ...heredoc("secrets", "SECRETS_SCRIPT_END", secretsScript),
                  ...heredoc("script", "DEPLOY_SCRIPT_END", script),
                  'echo "secrets revision {{ secretsRevision }}"',
                  'bash "$secrets" --restart',
                ]
              : [
                  'script="$(mktemp)"',
                  "trap 'rm -f \"$script\"' EXIT",
                  ...heredoc("script", "DEPLOY_SCRIPT_END", script),
                ]),
            'bash "$script" --source "{{ bundleUrl }}" --sha256 "{{ bundleSha256 }}" --version "{{ version }}"',
          ],
        },
      },
    ],
  };
}
