// The HaproxyTier component's args: every one with its default.
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSettings } from "../../contract/service";

export interface HaproxyTierArgs {
  /** Environment name, Secrets' too: part of the fleet's DNS zone, its `Fleet` tag, every tag, the SSM names. Lowercase. */
  env: string;
  /** Service settings (contract/service.ts): name, port and timings. Default serviceDefaults. */
  service?: ServiceSettings;

  /** VPC of every part. */
  vpcId: pulumi.Input<string>;
  /** NLB subnets. */
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** HAProxy nodes and service hosts go round-robin over these, so consecutive ones land in different AZs. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Debian 12 image of both kinds of host (the stack looks it up and pins it in prod). */
  amiId: pulumi.Input<string>;
  /** Root device name of that image (getAmi's rootDeviceName), for the nodes' launch template. Default /dev/xvda (Debian's). */
  rootDeviceName?: pulumi.Input<string>;
  /**
   * Refuse a tier one failure takes down: fewer than 2 HAProxy nodes, 2 private subnets (AZs) or 2 service
   * hosts. Default false; the stack sets it in prod.
   */
  highAvailability?: boolean;

  /** HAProxy nodes: the size of their Auto Scaling group. Plain: it decides the group's replacement percentages. Default 1. */
  nodeCount?: number;
  /** Instance type of the HAProxy nodes. Default t3.small. */
  nodeInstanceType?: pulumi.Input<string>;
  /**
   * cloud-init of an HAProxy node: host/haproxy/nodeUserData.ts renderNodeUserData, with the same service
   * settings, fleet DNS name, slots and port as here.
   */
  nodeUserData: pulumi.Input<string>;
  /**
   * Time a new HAProxy node has to boot and pass the NLB's check, seconds: its group's health check grace
   * period and warm-up. Default 600.
   */
  nodeBootSec?: pulumi.Input<number>;
  /** HAProxy's port on the nodes and the NLB target port: 1024-65535, as haproxy.service grants no capability to bind lower. Plain: it is part of haproxy.cfg. Default 8080. */
  listenPort?: number;
  /**
   * Port of the NLB's health check on the nodes, HAProxy's health URI (nodeHealthCheck.path): 200 while a
   * service host is usable, 503 when none is. Plain: part of haproxy.cfg; give nodeUserData the same. Default 8405.
   */
  healthPort?: number;

  /** Service hosts behind HAProxy (fixed, known at deploy time). Plain: one instance each. */
  fleetInstanceCount: number;
  /**
   * Service hosts, by index, whose image follows `amiId` on this update: each is replaced (the new host is
   * created and joins the discovery record; the old one is deleted at the end of the update). Every other
   * existing host keeps the image it was created with, so a new or floating `amiId` never replaces the fleet
   * at once. Roll an image one host per `pulumi up`: [0], then [1], ...; fewer than all hosts at once. Plain:
   * it decides resource options. Default none.
   */
  fleetImageRolloutHosts?: number[];
  /** server-template slots, room to grow without a config change. Plain: part of haproxy.cfg. Default 2x fleetInstanceCount. */
  serverSlots?: number;
  /** Instance type of the service hosts. Default t3.small. */
  fleetInstanceType?: pulumi.Input<string>;
  /** cloud-init of a service host: renderUserData with this service and env (Secrets' too) and Bundle's URLs. Read at
   *  first boot only: later releases come through SSM, whose deploy step needs the layout it installs. */
  fleetUserData: pulumi.Input<string>;
  /** Instance profile of the service hosts (serviceHostRole: reads Bundle's releases/ and runtimes/, its own parameters). */
  fleetInstanceProfileName: pulumi.Input<string>;
  /** Size of the encrypted gp3 root volume of every host, GB. Default 16. */
  rootVolumeGb?: pulumi.Input<number>;

  /** ARNs of the SSM parameters the HAProxy nodes read at boot (Secrets.parameterArns; nodeUserData names them). */
  nodeParameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The KMS key encrypting those parameters (Secrets.keyArn): the nodes may decrypt with it, only through SSM.
   * Default none: the parameters are under the AWS managed key aws/ssm.
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** Who may reach the NLB. Plain list: one rule each. Default ["0.0.0.0/0"]. */
  allowedCidrs?: pulumi.Input<string>[];
  /** TCP port of the Papertrail destination, the one port besides HTTPS the hosts may open outward. Default 443 (HTTPS, open anyway). */
  papertrailPort?: pulumi.Input<number>;
  /** ACM certificate: TLS on 443 at the NLB. Default none: plain TCP on 80 (dev). */
  certificateArn?: pulumi.Input<string>;
  /** Refuse to delete the NLB. Default false. */
  deletionProtection?: pulumi.Input<boolean>;
  /**
   * Write the NLB's access logs (TLS connections: it logs nothing else, so this needs `certificateArn`) to a
   * private bucket `<name>-nlb-logs`. Plain: it adds resources. Default false.
   */
  accessLogs?: boolean;
  /** With `accessLogs`: days a log is kept. Default 30. */
  accessLogRetentionDays?: pulumi.Input<number>;
  /**
   * With `accessLogs`: Pulumi protect on the log bucket and its parts, and no emptying by `pulumi destroy`; false
   * lets destroy empty it (dev). Plain: a resource option. Default false.
   */
  protectAccessLogs?: boolean;
  /** With `accessLogs`: bucket taking the log bucket's own S3 server access logs (Bundle.accessLogBucketName). Default none. */
  serverAccessLogBucket?: pulumi.Input<string>;

  /** s3:// URL of the release to roll out (Bundle.url: under releases/, the only prefix the hosts' role reads). */
  bundleUrl: pulumi.Input<string>;
  /** sha256 of that release, hex. */
  bundleSha256: pulumi.Input<string>;
  /** Release id the hosts record: its folder under /opt/<service>/releases; up to 64 of A-Z a-z 0-9 . _ - */
  version: pulumi.Input<string>;
  /** Hosts deployed at once (SSM max concurrency). Default "1". */
  rolloutBatch?: pulumi.Input<string>;
  /**
   * Revision of the secrets (Secrets.revision: parameter versions, never a value). The HAProxy nodes' launch
   * template tags each node with it, so a new value is a new template version the nodes' refresh rolls out;
   * with fleetSecretsScript, it is also a parameter of the rollout, so a new value re-runs it on every service
   * host, one at a time. Default none: hosts and nodes keep the values they booted with.
   */
  secretsRevision?: pulumi.Input<string>;
  /**
   * The service hosts' secrets script (host/secrets.ts renderSecretsScript, from the same host input as
   * fleetUserData): the rollout runs it with --restart before the deploy step. Used with secretsRevision only.
   * Default none: the rollout deploys only.
   */
  fleetSecretsScript?: pulumi.Input<string>;
}
