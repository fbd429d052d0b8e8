// The HAProxy nodes: their role (SSM Session Manager and their own boot parameters) and the instances.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ec2Role } from "../_shared/ec2Role";
import { TierHostArgs, tierHost } from "./hosts";

export interface HaproxyNodesArgs extends Omit<TierHostArgs, "instanceProfileName"> {
  count: number;
  serviceName: string;
  env: string;
  tags: Record<string, string>;
  /** Prefix of the nodes' Name tag. */
  fleetTag: string;
  /** The SSM parameters a node reads at boot (Datadog API key, Papertrail destination). */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
}

/** The role and profile `<name>-node` and `count` nodes named `<name>-node-<i>`. */
export function haproxyNodes(name: string, a: HaproxyNodesArgs, parent: pulumi.Resource): { instances: aws.ec2.Instance[]; role: aws.iam.Role } {
  const { role, profile } = ec2Role(`${name}-node`, {
    description: `HAProxy nodes of ${a.serviceName} (${a.env}): SSM Session Manager and their own boot parameters`,
    policy: pulumi.jsonStringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: a.parameterArns }],
    }),
    tags: a.tags,
    // The names these resources had before the shared builder: a stack that holds them keeps them.
    names: { policy: `${name}-node-params` },
  }, { parent });
  const instances = Array.from({ length: a.count }, (_, i) =>
    tierHost(`${name}-node-${i}`, i, { ...a, instanceProfileName: profile.name }, {
      // A config change replaces the nodes: Pulumi creates and attaches the new ones first and deletes the
      // old ones at the end of the update. The old ones may go before the new ones pass the NLB's check,
      // so change HAProxy's config outside busy hours (or move the nodes to an ASG with instance refresh).
      userDataReplaceOnChange: true,
      tags: { ...a.tags, Name: `${a.fleetTag}-haproxy-${i}`, Role: "haproxy" },
    }, { parent }));
  return { instances, role };
}
