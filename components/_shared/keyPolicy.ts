// The statement every key policy of the stack starts with: the account administers the key through IAM,
// so no key can become unmanageable (AWS KMS "Default key policy": allows access to the AWS account).

export function accountAdministersTheKey(partition: string, accountId: string) {
  return {
    Sid: "AccountAdministersTheKey",
    Effect: "Allow",
    Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
    Action: "kms:*",
    Resource: "*",
  };
}
