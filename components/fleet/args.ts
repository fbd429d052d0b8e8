// The Fleet component's args: every one with its default.
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSettings } from "../../contract/service";

export interface FleetArgs {
  /** VPC of the instances' security group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least 2 AZs. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * cloud-init user-data in clear text (it holds no secret); base64-encoded here. Expected: host/ renderUserData
   * (withHostDefaults) with the same service and env as Secrets (the hosts read `/<service>/<env>/...` parameters) and
   * Bundle's url, sha256, runtimeUrl and runtimeSha256. It installs the layout the fleet relies on: the secrets script
   * /usr/local/sbin/<service>-secrets, the deploy script /usr/local/sbin/<service>-deploy, releases under
   * /opt/<service>/releases, the unit <service>.service, and the step that completes the launch lifecycle hook once
   * /readyz answers (without it every instance is abandoned at lifecycleHookTimeoutSec).
   */
  userData: pulumi.Input<string>;
  /** Service settings (contract/service.ts): the port the load balancer reaches. Default serviceDefaults. */
  service?: ServiceSettings;
  /** Explicit AMI id; wins over amiName. Default none. */
  amiId?: pulumi.Input<string>;
  /** Name (or pattern) of an official Debian AMI. Default debian-12-amd64-* (the most recent). */
  amiName?: pulumi.Input<string>;
  /** EC2 instance type. Default t3.small. */
  instanceType?: pulumi.Input<string>;
  /**
   * CPU architecture of instanceType, as Node names it: "x64" or "arm64" (Graviton). Picks the AMI's architecture
   * (and the default amiName's); the runtime in userData (Bundle's architecture) must be the same. Plain. Default "x64".
   */
  architecture?: string;
  /** Size of the encrypted gp3 root volume, GB. Default 8. */
  rootVolumeGb?: pulumi.Input<number>;
  /** Fewest instances. Default 2. */
  minSize?: pulumi.Input<number>;
  /** Most instances. Default 4. */
  maxSize?: pulumi.Input<number>;
  /** Initial size only: later changes (scaling) are kept across deploys. Default minSize. */
  desiredCapacity?: pulumi.Input<number>;
  /**
   * Target group the instances register with. The group's health check type is ELB, so a load balancer must forward
   * to this target group (listenerArns) and check the service's /readyz (Alb does): without one no instance ever
   * counts healthy and every instance refresh fails.
   */
  targetGroupArn: pulumi.Input<string>;
  /** The load balancer's security group: the only source of the service port. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  /**
   * `app/<name>/<id>` of the ALB in front (Alb.loadBalancerArnSuffix), for the ALBRequestCountPerTarget resource label:
   * the fleet scales on an ALB's requests per target, so it expects an Application Load Balancer, not an NLB.
   */
  loadBalancerArnSuffix: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` of targetGroupArn (Alb.targetGroupArnSuffix), for the same resource label. */
  targetGroupArnSuffix: pulumi.Input<string>;
  /** Target of the tracking policy, requests per target per minute. Default 1000. */
  requestsPerTarget?: pulumi.Input<number>;
  /**
   * Time a new instance has to boot before ELB health counts, seconds. Default the boot budget's
   * (contract/boot.ts: max(300, 2 × the VM test's boot-to-ready figure), in whole minutes).
   */
  healthCheckGracePeriodSec?: pulumi.Input<number>;
  /** Warm-up of a new instance for refresh and scaling, seconds. Default 120. */
  instanceWarmupSec?: pulumi.Input<number>;
  /** Percentages of the refresh after which it pauses; the last must be 100. Default [50, 100]. */
  checkpointPercentages?: pulumi.Input<number>[];
  /** Pause at each checkpoint, seconds. Default 300. */
  checkpointDelaySec?: pulumi.Input<number>;
  /** Max healthy percentage during a refresh, above 100 so new instances start first. Default 200. */
  maxHealthyPercentage?: pulumi.Input<number>;
  /**
   * Seconds `pulumi up` waits for the instance refresh a release starts (and, before changing the group, for one an
   * earlier update left running) before it fails; the refresh keeps going. Default 3600.
   */
  refreshTimeoutSec?: pulumi.Input<number>;
  /**
   * Names of CloudWatch alarms that fail and roll back an instance refresh (Observability.rollbackAlarmNames): a
   * refresh reads only CloudWatch alarms, not Datadog monitors. Default none.
   */
  rollbackAlarmNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** Pre-initialized stopped instances, so scale-out skips the boot. Plain: it adds a resource block. Default false. */
  warmPool?: boolean;
  /** Instances kept in the warm pool. Default 1. */
  warmPoolMinSize?: pulumi.Input<number>;
  /**
   * Most instances in service and in the warm pool together (maxGroupPreparedCapacity): the pool holds this minus
   * the desired capacity, at least warmPoolMinSize. Unset, AWS keeps maxSize minus desired warm. Default minSize + warmPoolMinSize.
   */
  warmPoolMaxPreparedCapacity?: pulumi.Input<number>;
  /**
   * Seconds a launching instance has to answer /readyz and complete the launch lifecycle hook (host/lifecycle.ts)
   * before it is abandoned and replaced; counts again when it leaves the warm pool. 30 to 7200. Default the boot
   * budget's (contract/boot.ts: the grace period plus a margin for EC2's own start before cloud-init).
   */
  lifecycleHookTimeoutSec?: pulumi.Input<number>;
  /**
   * Bucket of the service bundle (Bundle.bucketArn); the role may read only releases/* and runtimes/* in it, the keys
   * Bundle writes (releases/<sha256>.js, runtimes/<sha256>), so the user-data's bundle and runtime URLs must be
   * Bundle's. The bucket's key lets the role decrypt only once the role is in Bundle's readerRoleArns.
   */
  bundleBucketArn: pulumi.Input<string>;
  /**
   * The service's own SSM parameters (Secrets.parameterArns: `/<service>/<env>/datadog-api-key` and
   * `/<service>/<env>/papertrail-destination`, contract/layout.ts ssmParameterNames, the names the secrets script in
   * userData reads); the only parameters the role may read.
   */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The key that encrypts the parameters (Secrets.keyArn); decryption only through SSM, and only once the role is in
   * Secrets' readerRoleArns.
   */
  kmsKeyArn: pulumi.Input<string>;
  /**
   * ARNs of the listeners forwarding to targetGroupArn (Alb.listenerArns): the group and its request-count policy
   * are created after them, when the target group is attached to the load balancer. Default none.
   */
  listenerArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Ids of what gives the private subnets their egress (Network.privateEgressEstablished: NAT gateways, routes):
   * the group launches no instance before them. Default none (an existing VPC's routes are there already).
   */
  privateEgress?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * TCP port of the Papertrail destination the hosts send syslog over TLS to (Papertrail's ports are per account,
   * usually 5 digits; Secrets.papertrailPort): the one port besides HTTPS the instances may open outward. Default 443
   * (HTTPS, open anyway).
   */
  papertrailPort?: pulumi.Input<number>;
  /**
   * Revision of the secrets the hosts read at boot (Secrets.revision: parameter versions, never a value), as the
   * launch template's instance tag `node-service-aws:secrets-revision`: a new value in SSM is a new launch template
   * version, which the instance refresh rolls out like a release, and every new host boots with the new value.
   * Default none (hosts keep the values they booted with until replaced).
   */
  secretsRevision?: pulumi.Input<string>;
  /** Tags of every resource, propagated to the instances and volumes. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}
