// Code rollout: an SSM Command document runs the per-host deploy script (host/deploy/script.ts) with the
// bundle's URL, sha256 and version; an association targets the fleet by tag with max concurrency 1 (or a
// batch) and max errors 0, so a new bundle re-runs it host by host and stops at the first host that fails
// to become ready. That host's script rolls it back; the hosts after it keep the old release.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ServiceSettings } from "../../contract/service";
import { renderDeployScript, withDeployDefaults } from "../../host/deploy/script";

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
  tags: Record<string, string>;
}

/** The document `<name>-deploy` and the association `<name>-rollout`. */
export function rollout(
  name: string,
  a: RolloutArgs,
  parent: pulumi.Resource,
): { document: aws.ssm.Document; association: aws.ssm.Association } {
  const deploy = withDeployDefaults({ service: a.service });
  const script = renderDeployScript({ service: a.service });
  const document = new aws.ssm.Document(
    `${name}-deploy`,
    {
      documentType: "Command",
      documentFormat: "JSON",
      content: aws
        .getRegionOutput({}, { parent })
        .region.apply((region) =>
          JSON.stringify(deployDocument(script, deploy.readyTimeoutSec + 120, region), null, 2),
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
      parameters: { bundleUrl: a.bundleUrl, bundleSha256: a.bundleSha256, version: a.version },
      maxConcurrency: a.batch,
      // Stop at the first host that fails: it rolled itself back, the rest keep the old release.
      maxErrors: "0",
      applyOnlyAtCronInterval: false,
      complianceSeverity: "HIGH",
      // `pulumi up` returns only once every host runs the release (or fails when one could not).
      waitForSuccessTimeoutSeconds: a.hosts.length * (deploy.readyTimeoutSec + 180),
    },
    { parent, dependsOn: a.hosts },
  );
  return { document, association };
}

/**
 * SSM Command document (schema 2.2) running the deploy script with the release's parameters. The
 * parameters' patterns are the script's own checks, so nothing but a URL, a hex digest and a version
 * id ever reaches the shell.
 */
export function deployDocument(script: string, timeoutSeconds: number, region: string): Record<string, unknown> {
  return {
    schemaVersion: "2.2",
    description:
      "Deploy one release of the service on this host: fetch, verify, switch, restart, wait for ready, roll back on failure.",
    parameters: {
      bundleUrl: {
        type: "String",
        description: "s3:// URL of the bundle",
        allowedPattern: "^s3://[a-z0-9][a-z0-9.-]{1,62}/[A-Za-z0-9/._-]+$",
      },
      bundleSha256: { type: "String", description: "sha256 of the bundle, hex", allowedPattern: "^[0-9a-f]{64}$" },
      version: { type: "String", description: "Release id", allowedPattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "deploy",
        inputs: {
          timeoutSeconds: String(timeoutSeconds),
          // SSM runs these lines with /bin/sh (dash on Debian): POSIX only; the script itself is bash.
          runCommand: [
            "set -eu",
            `export AWS_DEFAULT_REGION=${region}`,
            // A new instance gets the association while its first boot may still run: wait for it.
            "if command -v cloud-init >/dev/null 2>&1; then",
            "  rc=0; cloud-init status --wait >/dev/null || rc=$?",
            '  if [ "$rc" -eq 1 ]; then echo "cloud-init failed on this host: not deploying" >&2; exit 1; fi',
            "fi",
            'script="$(mktemp)"',
            "trap 'rm -f \"$script\"' EXIT",
            "cat > \"$script\" <<'DEPLOY_SCRIPT_END'",
            ...script.replace(/\n$/, "").split("\n"),
            "DEPLOY_SCRIPT_END",
            'bash "$script" --source "{{ bundleUrl }}" --sha256 "{{ bundleSha256 }}" --version "{{ version }}"',
          ],
        },
      },
    ],
  };
}
