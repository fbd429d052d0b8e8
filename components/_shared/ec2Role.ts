// The role of an EC2 instance and its instance profile: EC2 may assume it, the SSM agent gets exactly what it
// needs to register the instance, open Session Manager sessions (instead of SSH) and run commands and
// associations (the HAProxy flavor's rollouts), and one inline policy grants what the instance itself needs.
//
// Not AWS's AmazonSSMManagedInstanceCore: besides the agent's calls, it allows ssm:GetParameter and
// ssm:GetParameters on "*" (AWS managed policy reference, v2:
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html), so every
// host could read every SSM parameter of the account (security review F1). `ssmAgentPolicy` is that policy's
// list without ssm:GetParameter(s) (the agent reads a parameter only for a document that references one with
// {{ssm:...}}; this project's documents do not, and the host reads its own parameters by name through the inline
// policy) and without ssm:GetManifest (Distributor packages, unused here). Session Manager alone needs
// ssm:UpdateInstanceInformation and the four ssmmessages calls (AWS's own AWSCloud9SSMInstanceProfile:
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloud9SSMInstanceProfile.html); Run Command
// adds the ec2messages calls, State Manager associations the ssm association and document calls.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The resources of the role, each of which may keep a name of its own. */
export type Ec2RolePart = "role" | "ssmAgent" | "policy" | "profile";

export interface Ec2RoleArgs {
  /** The inline policy document (JSON): what the instances may do beyond SSM. */
  policy: pulumi.Input<string>;
  /** Description of the role. Default none. */
  description?: pulumi.Input<string>;
  /** Tags of the role and the profile. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Resource name of each part. Default: `name` (the types differ, so one name is enough), and `<name>-ssm-agent`
   * for the SSM agent's inline policy (a RolePolicy like `policy`); give them where a stack already holds the
   * parts under other names, so their URNs stay.
   */
  names?: Partial<Record<Ec2RolePart, string>>;
}

export interface Ec2Role {
  role: aws.iam.Role;
  profile: aws.iam.InstanceProfile;
}

/** Trust policy letting EC2 assume the role for the instances it runs. */
export const ec2AssumeRolePolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** What the SSM agent calls on its own behalf; none of it reads a parameter, a key or an object. */
export const ssmAgentPolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "RegisterAndSessionManager",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
    },
    {
      Sid: "RunCommand",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage",
        "ec2messages:FailMessage",
        "ec2messages:GetEndpoint",
        "ec2messages:GetMessages",
        "ec2messages:SendReply",
      ],
    },
    {
      Sid: "AssociationsAndDocuments",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ssm:ListAssociations",
        "ssm:ListInstanceAssociations",
        "ssm:DescribeAssociation",
        "ssm:GetDeployablePatchSnapshotForInstance",
        "ssm:GetDocument",
        "ssm:DescribeDocument",
        "ssm:PutInventory",
        "ssm:PutComplianceItems",
        "ssm:PutConfigurePackageResult",
        "ssm:UpdateAssociationStatus",
        "ssm:UpdateInstanceAssociationStatus",
      ],
    },
  ],
});

/** Creates the role, its two inline policies and its instance profile under `opts.parent` (none: the stack). */
export function ec2Role(name: string, args: Ec2RoleArgs, opts: { parent?: pulumi.Resource }): Ec2Role {
  const named = (part: Ec2RolePart) => args.names?.[part] ?? (part === "ssmAgent" ? `${name}-ssm-agent` : name);
  const role = new aws.iam.Role(
    named("role"),
    { description: args.description, assumeRolePolicy: ec2AssumeRolePolicy, tags: args.tags },
    opts,
  );
  new aws.iam.RolePolicy(named("ssmAgent"), { role: role.id, policy: ssmAgentPolicy }, opts);
  new aws.iam.RolePolicy(named("policy"), { role: role.id, policy: args.policy }, opts);
  const profile = new aws.iam.InstanceProfile(named("profile"), { role: role.name, tags: args.tags }, opts);
  return { role, profile };
}
