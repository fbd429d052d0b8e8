// The private bucket a load balancer writes its access logs to (the ALB's, the HAProxy flavor's NLB's): versioned
// (Security Hub S3.14) with a deleted or overwritten log kept a day, logs expired after their retention, SSE-S3
// (privateBucket's default, which every ELB log delivery accepts), and on request its own server access logs into
// another bucket (S3.9). The delivery statements differ per load balancer type; the caller gives them.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket, privateBucket } from "./privateBucket";

export interface LoadBalancerLogBucketArgs {
  /** Days a log is kept. */
  retentionDays: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the bucket. */
  forceDestroy: pulumi.Input<boolean>;
  /** Bucket taking this bucket's own S3 server access logs, under `s3-access/<name>/`; none: not logged. */
  serverAccessLogBucket: pulumi.Input<string> | undefined;
  /** The statements letting the load balancer's log delivery write, for this bucket, region, account and partition. */
  deliveryStatements: (bucketArn: string, region: string, accountId: string, partition: string) => object[];
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The log bucket `name` and its parts, children of `opts.parent` (protected with `opts.protect`). */
export function loadBalancerLogBucket(
  name: string,
  a: LoadBalancerLogBucketArgs,
  opts: { parent: pulumi.Resource; protect?: boolean },
): PrivateBucket {
  const region = aws.getRegionOutput({}, { parent: opts.parent });
  const caller = aws.getCallerIdentityOutput({}, { parent: opts.parent });
  const partition = aws.getPartitionOutput({}, { parent: opts.parent });
  return privateBucket(
    name,
    {
      forceDestroy: a.forceDestroy,
      versioning: true,
      lifecycleRules: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: {},
          expiration: { days: a.retentionDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          id: "remove-expired-delete-markers",
          status: "Enabled",
          filter: {},
          expiration: { expiredObjectDeleteMarker: true },
        },
      ],
      accessLogs:
        a.serverAccessLogBucket === undefined
          ? undefined
          : { bucket: a.serverAccessLogBucket, prefix: `s3-access/${name}/` },
      policyStatements: (arn) =>
        pulumi
          .all([region.region, caller.accountId, partition.partition])
          .apply(([r, acct, p]) => a.deliveryStatements(arn, r, acct, p)),
      tags: a.tags,
    },
    opts,
  );
}
