// Pure rules of the Fleet component (no Pulumi import).

/** Debian's own AWS account, publisher of the official Debian AMIs. */
export const debianOwnerId = "136693071363";
export const debian12NamePattern = "debian-12-amd64-*";

/** The instance role's inline policy: read this service's releases and parameters, nothing else. */
export function instancePolicy(a: { bundleBucketArn: string; parameterArns: string[]; kmsKeyArn: string; region: string }): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadReleases", Effect: "Allow", Action: "s3:GetObject", Resource: `${a.bundleBucketArn}/releases/*` },
      { Sid: "ReadOwnParameters", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: a.parameterArns },
      {
        Sid: "DecryptOwnParametersViaSsm", Effect: "Allow", Action: "kms:Decrypt", Resource: a.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `ssm.${a.region}.amazonaws.com` } },
      },
      // The Datadog agent's collect_ec2_tags (host/datadog.ts) falls back to the EC2 API when instance metadata
      // has no tags; ec2:DescribeTags takes no resource ARN or condition key, hence "*".
      { Sid: "ReadInstanceTags", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" },
    ],
  });
}
