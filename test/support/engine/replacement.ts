// Which input changes make the provider replace a resource (delete + create) instead of updating it, for
// every type the stack programs register. @pulumi/aws 7.48.0 and @pulumi/datadog 5.11.0 are bridged from the
// Terraform providers, whose schema marks those arguments ForceNew (SDKv2) or RequiresReplace (framework);
// the bridge turns them into replacements. Names are the Pulumi input names.
// `basis` says where each entry comes from:
//   source:     read in the Terraform provider's resource source for this change (path given);
//   documented: the provider documentation / schema as the author knows it, not re-read for this change;
//   unverified: not checked: every input change counts as a replacement, the safe assumption for the checks.
// infra/program.test.ts fails when a program registers a type that has no entry here.
import { typeToken } from "../../../components/_shared/typeToken";
import { componentTypes } from "../components";

export interface Replacement {
  /** Input names (dotted for a nested field) whose change forces a replacement; "*" = any change. */
  inputs: string[];
  /** More forcing inputs that depend on the new inputs (provider CustomizeDiff rules). */
  when?: (inputs: Record<string, any>) => string[];
  /** The provider documentation page of the resource. */
  doc: string;
  /** The Terraform provider documentation page the Pulumi page is generated from. */
  upstream?: string;
  basis: "source" | "documented" | "unverified" | "component";
  /** For basis "source": the file read (hashicorp/terraform-provider-aws unless stated). */
  source?: string;
  note?: string;
  /**
   * The provider answers every replacement with DeleteBeforeReplace (a bridged provider's ResourceInfo), unless the
   * resource's own deleteBeforeReplace option says otherwise (pulumi/pulumi step_generator.go: an explicit option wins).
   */
  deleteBeforeReplace?: boolean;
}

const TF_AWS = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/";
const TF_DD = "https://registry.terraform.io/providers/DataDog/datadog/latest/docs/resources/";

function aws(token: string, tf: string, inputs: string[], more: Partial<Replacement> = {}): [string, Replacement] {
  const [mod, rest] = token.split("/") as [string, string];
  const name = rest.split(":")[1]!.toLowerCase();
  return [
    `aws:${token}`,
    {
      inputs,
      doc: `https://www.pulumi.com/registry/packages/aws/api-docs/${mod}/${name}/`,
      upstream: TF_AWS + tf,
      basis: "documented",
      ...more,
    },
  ];
}

function datadog(token: string, tf: string, note: string): [string, Replacement] {
  const [mod, rest] = token.split("/") as [string, string];
  const name = rest.split(":")[1]!.toLowerCase();
  const doc = `https://www.pulumi.com/registry/packages/datadog/api-docs/${mod === "index" ? "" : `${mod}/`}${name}/`;
  return [`datadog:${token}`, { inputs: ["*"], doc, upstream: TF_DD + tf, basis: "unverified", note }];
}

function component(token: string): [string, Replacement] {
  return [
    token,
    {
      inputs: [],
      doc: "https://www.pulumi.com/docs/iac/concepts/resources/components/",
      basis: "component",
      note: "no provider: the engine never replaces a component because of its inputs; its children are diffed",
    },
  ];
}

const autonamed = (more: string[] = []) => ["name", "namePrefix", ...more];

export const replacement: Record<string, Replacement> = Object.fromEntries([
  // Release path: what a new bundle touches.
  aws("s3/bucketObjectv2:BucketObjectv2", "s3_object", ["bucket", "key"], {
    basis: "source",
    source: "internal/service/s3/object.go",
    note: "source, contentType, tags ... are updated in place (a new upload under the same key)",
  }),
  aws("ec2/launchTemplate:LaunchTemplate", "launch_template", autonamed(), {
    note: "every other argument is updated in place as a new template version (latestVersion + 1); old versions stay",
  }),
  aws("autoscaling/group:Group", "autoscaling_group", autonamed(), {
    note: "a launchTemplate.version change is an update and starts the instance refresh",
  }),
  aws("ssm/association:Association", "ssm_association", ["name", "instanceId"], {
    basis: "source",
    source: "internal/service/ssm/association.go",
    note: "parameters and targets are updated in place (UpdateAssociation)",
  }),
  aws("ssm/document:Document", "ssm_document", ["name", "documentType"], {
    note: "content is updated in place as a new document version",
  }),
  aws(
    "ec2/instance:Instance",
    "instance",
    [
      "ami",
      "associatePublicIpAddress",
      "availabilityZone",
      "cpuCoreCount",
      "cpuThreadsPerCore",
      "ebsBlockDevices",
      "enclaveOptions",
      "ephemeralBlockDevices",
      "hibernation",
      "ipv6AddressCount",
      "ipv6Addresses",
      "keyName",
      "launchTemplate",
      "networkInterfaces",
      "placementGroup",
      "placementPartitionNumber",
      "privateIp",
      "securityGroups",
      "subnetId",
      "rootBlockDevice.encrypted",
      "rootBlockDevice.kmsKeyId",
    ],
    {
      when: (i) => (i.userDataReplaceOnChange === true ? ["userData", "userDataBase64"] : []),
      note: "instanceType, iamInstanceProfile, vpcSecurityGroupIds, metadataOptions and rootBlockDevice size/type are updated in place",
    },
  ),
  // Stateful: protected in prod.
  aws("s3/bucket:Bucket", "s3_bucket", ["bucket", "bucketPrefix", "objectLockEnabled"], {
    note: "bucket is auto-named by Pulumi when not given",
  }),
  aws("kms/key:Key", "kms_key", ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"]),
  aws("lb/loadBalancer:LoadBalancer", "lb", [...autonamed(), "internal", "loadBalancerType", "customerOwnedIpv4Pool"], {
    when: (i) => (i.loadBalancerType === "network" ? ["subnets", "subnetMappings", "securityGroups"] : []),
    note: "for a network LB the provider forces replacement when subnets are removed or security groups go from none to some (or back): modelled as any change",
  }),
  aws("ssm/parameter:Parameter", "ssm_parameter", ["name", "dataType"], {
    basis: "source",
    source: "internal/service/ssm/parameter.go",
    note: "also replaced when tier goes from Advanced to Standard (CustomizeDiff), not modelled: no tier set",
  }),
  aws("kms/alias:Alias", "kms_alias", autonamed(), { note: "targetKeyId is updated in place" }),
  // Network.
  aws("ec2/vpc:Vpc", "vpc", ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"]),
  aws("ec2/subnet:Subnet", "subnet", ["availabilityZone", "availabilityZoneId", "cidrBlock", "outpostArn", "vpcId"]),
  aws("ec2/internetGateway:InternetGateway", "internet_gateway", [], { note: "vpcId is an attach/detach, in place" }),
  aws("ec2/eip:Eip", "eip", [
    "address",
    "customerOwnedIpv4Pool",
    "domain",
    "ipamPoolId",
    "networkBorderGroup",
    "publicIpv4Pool",
  ]),
  aws("ec2/natGateway:NatGateway", "nat_gateway", ["allocationId", "connectivityType", "privateIp", "subnetId"]),
  aws("ec2/routeTable:RouteTable", "route_table", ["vpcId"]),
  aws("ec2/routeTableAssociation:RouteTableAssociation", "route_table_association", ["subnetId", "gatewayId"], {
    note: "routeTableId is replaced in place (ReplaceRouteTableAssociation)",
  }),
  aws("ec2/securityGroup:SecurityGroup", "security_group", [...autonamed(), "description", "vpcId"]),
  aws("vpc/securityGroupIngressRule:SecurityGroupIngressRule", "vpc_security_group_ingress_rule", ["securityGroupId"]),
  aws("vpc/securityGroupEgressRule:SecurityGroupEgressRule", "vpc_security_group_egress_rule", ["securityGroupId"]),
  // Load balancing.
  aws("lb/listener:Listener", "lb_listener", ["loadBalancerArn"]),
  aws("lb/targetGroup:TargetGroup", "lb_target_group", [
    ...autonamed(),
    "ipAddressType",
    "port",
    "protocol",
    "protocolVersion",
    "targetType",
    "vpcId",
  ]),
  aws("lb/targetGroupAttachment:TargetGroupAttachment", "lb_target_group_attachment", [
    "availabilityZone",
    "port",
    "targetGroupArn",
    "targetId",
  ]),
  aws("route53/zone:Zone", "route53_zone", ["name", "delegationSetId"]),
  aws("route53/record:Record", "route53_record", ["name", "zoneId"]),
  // Security and network additions (VPC endpoints, flow logs, S3 access logs, the default security group).
  aws("ec2/vpcEndpoint:VpcEndpoint", "vpc_endpoint", ["serviceName", "vpcEndpointType", "vpcId"]),
  aws("ec2/defaultSecurityGroup:DefaultSecurityGroup", "default_security_group", ["vpcId"]),
  aws("ec2/flowLog:FlowLog", "flow_log", ["*"], {
    note: "every argument but tags forces a new flow log; tags never change here",
  }),
  aws("cloudwatch/logGroup:LogGroup", "cloudwatch_log_group", autonamed()),
  aws("s3/bucketLogging:BucketLogging", "s3_bucket_logging", ["bucket", "expectedBucketOwner"]),
  aws("autoscaling/lifecycleHook:LifecycleHook", "autoscaling_lifecycle_hook", ["autoscalingGroupName", "name"]),
  // The fleet's refresh guard and waiter (components/fleet/refresh.ts): their diff reports changes and never a
  // replacement, so a new launch template version updates them (an update is what waits).
  [
    "pulumi-nodejs:dynamic:InstanceRefreshGuard",
    {
      inputs: [],
      doc: "https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/",
      basis: "source",
      note: "components/fleet/refresh.ts diff: changes, no replaces",
    },
  ],
  [
    "pulumi-nodejs:dynamic:InstanceRefreshWaiter",
    {
      inputs: [],
      doc: "https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/",
      basis: "source",
      note: "components/fleet/refresh.ts diff: changes, no replaces",
    },
  ],
  // Buckets' satellites: each is bound to its bucket.
  aws("s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "s3_bucket_lifecycle_configuration", [
    "bucket",
    "expectedBucketOwner",
  ]),
  aws("s3/bucketOwnershipControls:BucketOwnershipControls", "s3_bucket_ownership_controls", ["bucket"]),
  aws("s3/bucketPolicy:BucketPolicy", "s3_bucket_policy", ["bucket"]),
  aws("s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "s3_bucket_public_access_block", ["bucket"]),
  aws(
    "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "s3_bucket_server_side_encryption_configuration",
    ["bucket", "expectedBucketOwner"],
  ),
  aws("s3/bucketVersioning:BucketVersioning", "s3_bucket_versioning", ["bucket", "expectedBucketOwner"]),
  // IAM.
  aws("iam/role:Role", "iam_role", autonamed(["path"])),
  aws("iam/rolePolicy:RolePolicy", "iam_role_policy", autonamed(["role"])),
  aws("iam/rolePolicyAttachment:RolePolicyAttachment", "iam_role_policy_attachment", ["policyArn", "role"]),
  aws("iam/instanceProfile:InstanceProfile", "iam_instance_profile", autonamed(["path"]), {
    note: "role is updated in place",
  }),
  // Alarms and notifications.
  aws("autoscaling/policy:Policy", "autoscaling_policy", ["autoscalingGroupName", "name"]),
  aws("cloudwatch/metricAlarm:MetricAlarm", "cloudwatch_metric_alarm", ["name"], {
    note: "Pulumi's name is Terraform's alarm_name",
  }),
  aws("sns/topic:Topic", "sns_topic", autonamed(["fifoTopic"])),
  aws("sns/topicPolicy:TopicPolicy", "sns_topic_policy", ["arn"]),
  aws("sns/topicSubscription:TopicSubscription", "sns_topic_subscription", ["endpoint", "protocol", "topic"], {
    note: "Pulumi's topic is Terraform's topic_arn",
  }),
  datadog(
    "aws/integrationAccount:IntegrationAccount",
    "integration_aws_account",
    "account-wide Datadog integration (prod only)",
  ),
  datadog("aws/integrationExternalId:IntegrationExternalId", "integration_aws_external_id", "no inputs"),
  datadog("index/dashboardJson:DashboardJson", "dashboard_json", "the dashboard JSON is believed to update in place"),
  datadog("index/monitor:Monitor", "monitor", "only `type` is believed to force a replacement"),
  // target docker: @pulumi/docker 5.2.0 bridges kreuzwerker/terraform-provider-docker v4.5.0; @pulumi/docker-build is native.
  [
    "docker:index/container:Container",
    {
      // Its ForceNew arguments (resource_docker_container.go), under their Pulumi names.
      inputs: [
        ...["capabilities", "cgroupParent", "cgroupnsMode", "command", "cpus", "deviceRequests", "devices", "dns"],
        ...["dnsOpts", "dnsSearches", "domainname", "entrypoints", "envs", "gpus", "groupAdds", "hosts", "hostname"],
        ...["image", "ipcMode", "labels", "logDriver", "logOpts", "mounts", "name", "networkMode", "networksAdvanced"],
        ...["pidMode", "platform", "ports", "privileged", "publishAllPorts", "readOnly", "runtime", "securityOpts"],
        ...["shmSize", "stdinOpen", "stopSignal", "stopTimeout", "storageOpts", "sysctls", "tty", "ulimits"],
        ...["uploads", "user", "usernsMode", "volumes", "workingDir"],
      ],
      doc: "https://www.pulumi.com/registry/packages/docker/api-docs/container/",
      upstream: "https://registry.terraform.io/providers/kreuzwerker/docker/latest/docs/resources/container",
      basis: "source",
      source:
        "kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_container.go; pulumi/pulumi-docker provider/resources.go (DeleteBeforeReplace: true)",
      deleteBeforeReplace: true,
      note: "the provider asks delete-before-replace for every container; its delete stops with destroyGraceSeconds (0 = kill at once), then removes",
    },
  ],
  [
    "docker:index/network:Network",
    {
      inputs: [
        "attachable",
        "driver",
        "ingress",
        "internal",
        "ipamConfigs",
        "ipamDriver",
        "ipamOptions",
        "labels",
      ].concat(["name", "options"]),
      doc: "https://www.pulumi.com/registry/packages/docker/api-docs/network/",
      upstream: "https://registry.terraform.io/providers/kreuzwerker/docker/latest/docs/resources/network",
      basis: "source",
      source: "kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_network.go",
    },
  ],
  [
    "docker:index/remoteImage:RemoteImage",
    {
      inputs: ["name", "platform", "pullTriggers", "triggers"],
      doc: "https://www.pulumi.com/registry/packages/docker/api-docs/remoteimage/",
      upstream: "https://registry.terraform.io/providers/kreuzwerker/docker/latest/docs/resources/image",
      basis: "source",
      source: "kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_image.go",
    },
  ],
  [
    "docker-build:index:Image",
    {
      inputs: [],
      doc: "https://www.pulumi.com/registry/packages/docker-build/api-docs/image/",
      basis: "source",
      source: "pulumi/pulumi-docker-build v0.0.22 provider/internal/image.go (Diff: every change an update, a rebuild)",
      note: "never replaced: a locally loaded image has nothing to delete",
    },
  ],
  component("pulumi:pulumi:Stack"),
  ...componentTypes.map((t) => component(typeToken(t))),
]);

export function replacementFor(type: string): Replacement {
  const r = replacement[type];
  if (!r)
    throw new Error(
      `${type}: no entry in test/support/engine/replacement.ts: add the inputs that force its replacement, with the provider page`,
    );
  return r;
}
