// The role of an EC2 instance and its instance profile: EC2 may assume it, AWS's managed policy for SSM
// (Session Manager instead of SSH, Run Command for rollouts) is attached, and one inline policy grants
// what the instance itself needs. The partition is looked up, so the policy ARN is right in every partition.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The resources of the role, each of which may keep a name of its own. */
export type Ec2RolePart = "role" | "ssmCore" | "policy" | "profile";

export interface Ec2RoleArgs {
  /** The inline policy document (JSON): what the instances may do beyond SSM. */
  policy: pulumi.Input<string>;
  /** Description of the role. Default none. */
  description?: pulumi.Input<string>;
  /** Tags of the role and the profile. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Resource name of each part. Default: `name` (the types differ, so one name is enough); give them where a
   * stack already holds the parts under other names, so their URNs stay.
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

/** Creates the role, its two policies and its instance profile under `opts.parent` (none: the stack). */
export function ec2Role(name: string, args: Ec2RoleArgs, opts: { parent?: pulumi.Resource }): Ec2Role {
  const named = (part: Ec2RolePart) => args.names?.[part] ?? name;
  const partition = aws.getPartitionOutput({}, opts);
  const role = new aws.iam.Role(named("role"), { description: args.description, assumeRolePolicy: ec2AssumeRolePolicy, tags: args.tags }, opts);
  new aws.iam.RolePolicyAttachment(named("ssmCore"), {
    role: role.name, policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
  }, opts);
  new aws.iam.RolePolicy(named("policy"), { role: role.id, policy: args.policy }, opts);
  const profile = new aws.iam.InstanceProfile(named("profile"), { role: role.name, tags: args.tags }, opts);
  return { role, profile };
}
