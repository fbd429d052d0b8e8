// Pure rules of the Alb component (no Pulumi import, so the config schema and `npm run render` load fast).
import { FieldNames, Problem, ownNames } from "../../contract/problem";
import { checkLoadBalancerTimings, withServiceDefaults } from "../../contract/service";

export const defaultSslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** ELB's own account per region, for regions older than August 2022 (newer ones use only the service principal). */
const elbAccountIds: Record<string, string> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-south-1": "635631232127",
  "eu-west-3": "009996457667",
  "eu-north-1": "897822967062",
  "ap-east-1": "754344448648",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-northeast-3": "383597477331",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-south-1": "718504428378",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
};

/**
 * Statements letting this region's ELB write access logs for this account. The bucket's builder
 * (components/_shared/privateBucket.ts) adds the statement refusing plain HTTP after them.
 */
export function accessLogDeliveryStatements(
  bucketArn: string,
  region: string,
  accountId: string,
  partition = "aws",
): object[] {
  const logs = `${bucketArn}/AWSLogs/${accountId}/*`;
  const legacy = elbAccountIds[region];
  const statements: object[] = [
    {
      Sid: "ElbLogDelivery",
      Effect: "Allow",
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: logs,
    },
  ];
  if (legacy)
    statements.push({
      Sid: "ElbLogDeliveryLegacyRegion",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${legacy}:root` },
      Action: "s3:PutObject",
      Resource: logs,
    });
  return statements;
}

/** The values checkAlbTimings reads. */
export interface AlbTimings {
  idleTimeoutSec: number;
  keepAliveTimeoutMs: number;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  deregistrationDelaySec: number;
  slowStartSec: number;
}

/**
 * Problems with the LB/service timings, or none; used on plain values and inside an apply.
 * `names` is how the caller names the fields a message mentions (default: the AlbTimings names).
 */
export function checkAlbTimings(a: AlbTimings, names: FieldNames = ownNames): Problem[] {
  const s = withServiceDefaults({
    keepAliveTimeoutMs: a.keepAliveTimeoutMs,
    drainDelayMs: a.drainDelayMs,
    shutdownTimeoutMs: a.shutdownTimeoutMs,
    headersTimeoutMs: a.keepAliveTimeoutMs + 1000,
  });
  const problems = checkLoadBalancerTimings(s, a, names);
  if (!Number.isInteger(a.idleTimeoutSec) || a.idleTimeoutSec < 1 || a.idleTimeoutSec > 4000)
    problems.push({ field: "idleTimeoutSec", message: `${a.idleTimeoutSec} must be an integer 1-4000` });
  if (a.slowStartSec !== 0 && (a.slowStartSec < 30 || a.slowStartSec > 900))
    problems.push({ field: "slowStartSec", message: `${a.slowStartSec} must be 0 (off) or 30-900` });
  return problems;
}
