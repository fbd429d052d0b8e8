// The hosts: how an instance is launched (IMDSv2, encrypted volumes, no public address), how many and where
// (prod: >= 2 instances over >= 2 AZs), and how a new release reaches them (a rolling deploy).
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import {
  PackPolicy,
  envConfig,
  handles,
  isOf,
  known,
  list,
  ofTypes,
  onlyInProd,
  referrers,
  refersTo,
  truthy,
  types,
} from "./common";

const launchers = [...types.launchTemplate, ...types.launchConfiguration, ...types.instance];

/** IMDSv2 only, and a hop limit that keeps the token inside the host (a container behind a bridge needs 2). */
export const imdsv2Required: PackPolicy = {
  name: "imdsv2-required",
  description: "Instances require IMDSv2 session tokens, with a PUT response hop limit of at most maxHopLimit.",
  enforcementLevel: "mandatory",
  resourceTypes: launchers,
  configSchema: { properties: { maxHopLimit: { type: "integer", minimum: 1, maximum: 64, default: 1 } } },
  validateResource: (args, report) => {
    if (!isOf(args.type, launchers)) return;
    const max = args.getConfig<{ maxHopLimit?: number }>().maxHopLimit ?? 1;
    const m = args.props.metadataOptions;
    if (m?.httpEndpoint === "disabled") return; // no metadata service at all
    if (m?.httpTokens !== "required")
      report(
        'metadataOptions.httpTokens must be "required": without it IMDSv1 hands the role\'s credentials to any GET',
      );
    const hops = m?.httpPutResponseHopLimit;
    if (hops !== undefined && Number(hops) > max)
      report(`metadataOptions.httpPutResponseHopLimit is ${hops}: at most ${max}, so the token stays on the host`);
  },
};

/** Volumes the rule reads, as [where, encrypted] of a launch template, launch configuration, instance or volume. */
function volumesOf(type: string, p: Record<string, any>): [string, unknown][] {
  if (isOf(type, types.launchTemplate))
    return list(p.blockDeviceMappings)
      .filter((b) => b.ebs !== undefined)
      .map((b) => [`blockDeviceMappings ${b.deviceName ?? ""}`.trim(), b.ebs.encrypted]);
  if (isOf(type, types.volume)) return [["the volume", p.encrypted]];
  return [
    ...(p.rootBlockDevice === undefined ? [] : [["rootBlockDevice", p.rootBlockDevice.encrypted] as [string, unknown]]),
    ...list(p.ebsBlockDevices).map((b): [string, unknown] => [
      `ebsBlockDevices ${b.deviceName ?? ""}`.trim(),
      b.encrypted,
    ]),
  ];
}

export const encryptedVolumes: PackPolicy = {
  name: "encrypted-volumes",
  description: "Every EBS volume an instance boots with or attaches is encrypted.",
  enforcementLevel: "mandatory",
  resourceTypes: [...launchers, ...types.volume],
  validateResource: (args, report) => {
    if (!isOf(args.type, [...launchers, ...types.volume])) return;
    const volumes = volumesOf(args.type, args.props);
    if (isOf(args.type, types.launchTemplate) && volumes.length === 0)
      report(
        "no blockDeviceMappings: the image's own (unencrypted) volume would be used; map the root device with ebs.encrypted",
      );
    if (
      !isOf(args.type, types.launchTemplate) &&
      !isOf(args.type, types.volume) &&
      args.props.rootBlockDevice === undefined
    )
      report("no rootBlockDevice: the image's own (unencrypted) volume would be used; set rootBlockDevice.encrypted");
    for (const [where, encrypted] of volumes) if (!truthy(encrypted)) report(`${where} is not encrypted`);
  },
};

export const noPublicIp: PackPolicy = {
  name: "no-public-ip",
  description:
    "Service instances get no public IP address: launch templates, launch configurations and instances say so explicitly (a subnet's default would decide otherwise).",
  enforcementLevel: "mandatory",
  resourceTypes: launchers,
  validateResource: (args, report) => {
    if (!isOf(args.type, launchers)) return;
    if (isOf(args.type, types.launchTemplate)) {
      const nics = list(args.props.networkInterfaces);
      if (nics.length === 0) report('no networkInterfaces: set associatePublicIpAddress "false" on the first one');
      nics
        .filter((n) => n.associatePublicIpAddress !== false && n.associatePublicIpAddress !== "false")
        .forEach((n) => report(`network interface ${n.deviceIndex ?? 0}: associatePublicIpAddress must be "false"`));
      return;
    }
    if (args.props.associatePublicIpAddress !== false)
      report("associatePublicIpAddress must be false: instances are reached through the load balancer only");
  },
};

export const subnetsNoAutoPublicIp: PackPolicy = {
  name: "subnets-no-auto-public-ip",
  description: "No subnet hands out public IP addresses on launch (Security Hub EC2.15).",
  enforcementLevel: "mandatory",
  resourceTypes: types.subnet,
  validateResource: (args: ResourceValidationArgs, report) => {
    if (!isOf(args.type, types.subnet)) return;
    if (truthy(args.props.mapPublicIpOnLaunch) || truthy(args.props.assignIpv6AddressOnCreation))
      report("mapPublicIpOnLaunch / assignIpv6AddressOnCreation gives every instance launched here a public address");
  },
};

// --- fleets ----------------------------------------------------------------------------------------------

/**
 * The AZs of the subnets a fleet names under `key`: each subnet of the stack by its availabilityZone; a subnet id no
 * subnet of the stack answers to is from outside the stack, and counts as an AZ of its own (its AZ cannot be seen).
 */
function zonesOf(rs: readonly PolicyResource[], holder: PolicyResource, key: string): Set<string> {
  const subnets = ofTypes(rs, types.subnet).filter((s) => refersTo(holder, key, s));
  const zones = new Set(subnets.map((s) => String(s.props.availabilityZone ?? s.props.availabilityZoneId ?? s.urn)));
  const ids = known(() => list<string>(holder.props[key]), []); // unknown in preview: the stack's subnets only
  if (subnets.length < ids.length)
    ids.filter((id) => !subnets.some((s) => handles(s).includes(id))).forEach((id) => zones.add(`outside:${id}`));
  return zones;
}

/** Instances of a stack grouped into fleets: those that share a parent (the component that made them). */
function instanceFleets(rs: readonly PolicyResource[]): Map<string, PolicyResource[]> {
  const fleets = new Map<string, PolicyResource[]>();
  for (const i of ofTypes(rs, types.instance)) {
    const key = i.parent?.urn ?? "";
    fleets.set(key, [...(fleets.get(key) ?? []), i]);
  }
  return fleets;
}

export const fleetSpread: PackPolicy = {
  name: "fleet-spread",
  description:
    "In prod every fleet keeps at least minInstances instances over at least minZones Availability Zones: Auto Scaling groups by minSize and subnets, instance fleets (the instances of one component) by count and subnets.",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.autoScalingGroup, ...types.instance, ...types.subnet],
  tags: ["prod-only"],
  configSchema: {
    properties: {
      ...envConfig.properties,
      minInstances: { type: "integer", minimum: 1, default: 2 },
      minZones: { type: "integer", minimum: 1, default: 2 },
    },
  },
  validateStack: (args, report) => {
    onlyInProd(args);
    const c = args.getConfig<{ minInstances?: number; minZones?: number }>();
    const [minInstances, minZones] = [c.minInstances ?? 2, c.minZones ?? 2];
    for (const g of ofTypes(args.resources, types.autoScalingGroup)) {
      if (Number(g.props.minSize ?? 0) < minInstances)
        report(`minSize is ${g.props.minSize ?? 0}: at least ${minInstances}, so one instance can fail or roll`, g.urn);
      const zones =
        list(g.props.availabilityZones).length > 0
          ? new Set(list<string>(g.props.availabilityZones))
          : zonesOf(args.resources, g, "vpcZoneIdentifiers");
      if (zones.size < minZones)
        report(
          `spans ${zones.size} Availability Zone(s): at least ${minZones}, so an AZ outage leaves it serving`,
          g.urn,
        );
    }
    for (const fleet of instanceFleets(args.resources).values()) {
      const zones = new Set(
        fleet.flatMap((i) =>
          i.props.availabilityZone ? [String(i.props.availabilityZone)] : [...zonesOf(args.resources, i, "subnetId")],
        ),
      );
      const first = fleet[0]!;
      if (fleet.length < minInstances)
        report(
          `a fleet of ${fleet.length} instance(s) under ${first.parent?.name ?? "the stack"}: at least ${minInstances}`,
          first.urn,
        );
      if (zones.size < minZones)
        report(
          `the fleet under ${first.parent?.name ?? "the stack"} spans ${zones.size} Availability Zone(s): at least ${minZones}`,
          first.urn,
        );
    }
  },
};

/** Whether an SSM association rolls a fleet one host at a time and stops at the first error. */
const rollsSafely = (a: PolicyResource) =>
  String(a.props.maxConcurrency ?? "") === "1" && String(a.props.maxErrors ?? "") === "0";

/** Whether an association's targets pick the instance: by id or by one of its tags. */
function targets(a: PolicyResource, i: PolicyResource): boolean {
  const tags = (i.props.tags ?? {}) as Record<string, string>;
  return list<{ key: string; values: string[] }>(a.props.targets).some((t) => {
    if (t.key === "InstanceIds") return refersTo(a, "targets", i);
    const tag = /^tag:(.+)$/.exec(t.key)?.[1];
    return tag !== undefined && list<string>(t.values).includes(tags[tag] ?? "\0");
  });
}

export const rollingDeploy: PackPolicy = {
  name: "rolling-deploy",
  description:
    "Every fleet has a rolling deploy: an Auto Scaling group an instance refresh (Rolling, keeping at least minHealthyPercentage in service) or the stack's refresh guard/waiter; an instance fleet an SSM association that targets it one host at a time and stops at the first error.",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.autoScalingGroup, ...types.refreshGuard, ...types.instance, ...types.ssmAssociation],
  configSchema: { properties: { minHealthyPercentage: { type: "integer", minimum: 0, maximum: 100, default: 100 } } },
  validateStack: (args, report) => {
    const min = args.getConfig<{ minHealthyPercentage?: number }>().minHealthyPercentage ?? 100;
    for (const g of ofTypes(args.resources, types.autoScalingGroup)) {
      const refresh = g.props.instanceRefresh;
      const tags = list<{ key: string; value: string }>(g.props.tags);
      const guarded =
        referrers(args.resources, types.refreshGuard, "autoScalingGroupName", g).length > 0 ||
        ofTypes(args.resources, types.refreshGuard).some((r) =>
          tags.some((t) => t.key === r.props.tagKey && t.value === r.props.tagValue),
        );
      if (refresh === undefined && !guarded) {
        report("no instanceRefresh and no refresh guard: a new launch template version would reach no instance", g.urn);
        continue;
      }
      if (refresh === undefined) continue;
      if (refresh.strategy !== "Rolling") report(`instanceRefresh.strategy is ${refresh.strategy}: Rolling`, g.urn);
      const healthy = refresh.preferences?.minHealthyPercentage ?? 90;
      if (Number(healthy) < min)
        report(`instanceRefresh keeps ${healthy}% in service: at least ${min}% (launch before terminate)`, g.urn);
    }
    const associations = ofTypes(args.resources, types.ssmAssociation);
    for (const fleet of instanceFleets(args.resources).values()) {
      const rolling = associations.filter((a) => fleet.every((i) => targets(a, i)));
      if (!rolling.some(rollsSafely))
        report(
          rolling.length === 0
            ? `no SSM association deploys to the fleet under ${fleet[0]!.parent?.name ?? "the stack"}`
            : `the association deploying to the fleet under ${fleet[0]!.parent?.name ?? "the stack"} must run maxConcurrency 1 and maxErrors 0`,
          fleet[0]!.urn,
        );
    }
  },
};

export const computePolicies: PackPolicy[] = [
  imdsv2Required,
  encryptedVolumes,
  noPublicIp,
  subnetsNoAutoPublicIp,
  fleetSpread,
  rollingDeploy,
];
