// `pulumi up` reports the release truthfully. The provider starts an instance refresh when the group's launch
// template version changes and returns at once: "This resource does not wait for the instance refresh to complete"
// and "When this resource is updated, any existing refresh is cancelled" (@pulumi/aws types/input.d.ts,
// GroupInstanceRefresh.triggers; terraform-provider-aws group.go startInstanceRefresh cancels an
// InstanceRefreshInProgressFault's refresh and starts again). Two dynamic resources close both gaps:
//   - InstanceRefreshGuard, before the group's update: waits (bounded) while a refresh of this fleet's group is
//     still active, so an update never cancels it; fails naming it when the wait runs out.
//   - InstanceRefreshWaiter, after it: polls DescribeInstanceRefreshes until the refresh of this launch template
//     version is Successful; Failed, Cancelled, RollbackSuccessful and RollbackFailed fail the update with the
//     refresh id and status reason, as does a bounded timeout. The refresh is the newest whose desired
//     configuration names this template and version: the provider sets it because the Fleet's refresh rolls back
//     automatically ("The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is
//     empty": group.go expandStartInstanceRefreshInput). A group created in this update has no refresh: nothing to wait for.
// Both take the launch template version as an input, so they run again on every release, and on nothing else.
//
// Preview: the engine calls a provider's Create and Update during a preview only when the provider supports
// previews (pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go: `if !protocol.supportsPreview ...
// return the inputs`), and the Node.js dynamic provider never says it does (@pulumi/pulumi
// cmd/dynamic-provider/index.js configure). Check is not implemented and diff compares inputs: a preview calls no AWS API.
//
// The provider object is serialized with its closure (@pulumi/pulumi dynamic/index.ts serializeProvider) and run
// by the dynamic provider host: the functions below capture nothing but each other and constants, and load the
// AWS SDK with require() when they run. Credentials and region come from the environment `pulumi up` runs in.
import * as pulumi from "@pulumi/pulumi";

/** What the provider needs of the AWS SDK v3 AutoScalingClient: send(command). Injected in tests. */
export interface Sender {
  send(command: unknown): Promise<any>;
}

/** The fields of DescribeInstanceRefreshes' InstanceRefresh this module reads. */
export interface RefreshView {
  InstanceRefreshId?: string;
  Status?: string;
  StatusReason?: string;
  StartTime?: Date | string;
  PercentageComplete?: number;
  DesiredConfiguration?: { LaunchTemplate?: { LaunchTemplateId?: string; Version?: string } };
}

export interface RefreshDeps {
  client(region: string): Sender;
  sleep(ms: number): Promise<void>;
  now(): number;
}

// Local constants, exported below under other names: a compiled module reads an exported const through its
// `exports` object, which the closure serializer would then capture whole.
const ACTIVE = ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"];
/** Statuses of a refresh that has not ended (DescribeInstanceRefreshes API reference, InstanceRefresh.Status). */
export const activeStatuses: readonly string[] = ACTIVE;
/** Statuses of a refresh that ended without putting its desired configuration in service. */
export const failedStatuses: readonly string[] = ["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"];

export type Verdict = { state: "succeeded" | "failed" | "running"; message: string };

const startOf = (r: RefreshView) => new Date(r.StartTime ?? 0).getTime();

/** The newest refresh whose desired configuration is this launch template version. */
export function refreshOf(refreshes: RefreshView[], lt: { id: string; version: string }): RefreshView | undefined {
  return refreshes
    .filter(
      (r) =>
        r.DesiredConfiguration?.LaunchTemplate?.LaunchTemplateId === lt.id &&
        r.DesiredConfiguration?.LaunchTemplate?.Version === lt.version,
    )
    .sort((a, b) => startOf(b) - startOf(a))[0];
}

/** What a refresh's status means for the release. */
export function judge(r: RefreshView, group: string, version: string): Verdict {
  const what = `instance refresh ${r.InstanceRefreshId} of ${group} (launch template version ${version})`;
  const reason = r.StatusReason ? `: ${r.StatusReason}` : "";
  if (r.Status === "Successful") return { state: "succeeded", message: `${what} succeeded` };
  if (r.Status !== undefined && ACTIVE.includes(r.Status))
    return { state: "running", message: `${what} is ${r.Status} (${r.PercentageComplete ?? 0}% done)${reason}` };
  const back =
    r.Status === "RollbackSuccessful"
      ? " The group runs the previous version again: `pulumi refresh` brings the state back to it."
      : " Some instances may run either version; see the group's scaling activities.";
  return {
    state: "failed",
    message: `${what} ended ${r.Status ?? "without a status"}${reason}. Version ${version} is not released.${back}`,
  };
}

async function describeRefreshes(client: Sender, group: string): Promise<RefreshView[]> {
  const { DescribeInstanceRefreshesCommand } = require("@aws-sdk/client-auto-scaling");
  const all: RefreshView[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, NextToken: token }),
    );
    all.push(...(page.InstanceRefreshes ?? []));
    token = page.NextToken;
  } while (token);
  return all;
}

async function groupsTagged(client: Sender, key: string, value: string): Promise<string[]> {
  const { DescribeAutoScalingGroupsCommand } = require("@aws-sdk/client-auto-scaling");
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:${key}`, Values: [value] }], NextToken: token }),
    );
    names.push(...(page.AutoScalingGroups ?? []).map((g: { AutoScalingGroupName: string }) => g.AutoScalingGroupName));
    token = page.NextToken;
  } while (token);
  return names;
}

export interface WaiterInputs {
  region: string;
  autoScalingGroupName: string;
  launchTemplateId: string;
  launchTemplateVersion: string;
  timeoutSec: number;
  pollSec: number;
}

/** Waits for the refresh of this version; resolves with its id and status, throws when it did not succeed. */
export async function waitForRefresh(
  deps: RefreshDeps,
  i: WaiterInputs,
): Promise<{ refreshId: string; status: string }> {
  const client = deps.client(i.region);
  const deadline = deps.now() + i.timeoutSec * 1000;
  let looks = 0;
  let last: Verdict | undefined;
  for (;;) {
    const r = refreshOf(await describeRefreshes(client, i.autoScalingGroupName), {
      id: i.launchTemplateId,
      version: i.launchTemplateVersion,
    });
    looks++;
    if (r === undefined) {
      // None after a second look (a refresh the provider started is listed at once): the group was created with
      // this version, so every instance already runs it.
      if (looks >= 2) return { refreshId: "", status: "NoRefresh" };
    } else {
      last = judge(r, i.autoScalingGroupName, i.launchTemplateVersion);
      if (last.state === "succeeded") return { refreshId: r.InstanceRefreshId ?? "", status: "Successful" };
      if (last.state === "failed") throw new Error(last.message);
    }
    if (deps.now() >= deadline)
      throw new Error(
        `${last?.message ?? `no instance refresh of ${i.autoScalingGroupName} for launch template version ${i.launchTemplateVersion}`}` +
          ` after ${i.timeoutSec} s; it keeps running (aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${i.autoScalingGroupName}),` +
          " and the next `pulumi up` waits for it before it changes the group.",
      );
    await deps.sleep(i.pollSec * 1000);
  }
}

export interface GuardInputs {
  region: string;
  tagKey: string;
  tagValue: string;
  launchTemplateVersion: string;
  timeoutSec: number;
  pollSec: number;
}

/** Waits while a refresh of the fleet's group is active (none: at once); throws naming it when the wait runs out. */
export async function waitUntilNoActiveRefresh(deps: RefreshDeps, i: GuardInputs): Promise<{ waitedFor: string }> {
  const client = deps.client(i.region);
  const deadline = deps.now() + i.timeoutSec * 1000;
  const groups = await groupsTagged(client, i.tagKey, i.tagValue);
  const waitedFor: string[] = [];
  for (const group of groups) {
    for (;;) {
      const active = (await describeRefreshes(client, group)).find(
        (r) => r.Status !== undefined && ACTIVE.includes(r.Status),
      );
      if (active === undefined) break;
      if (!waitedFor.includes(active.InstanceRefreshId ?? "")) waitedFor.push(active.InstanceRefreshId ?? "");
      if (deps.now() >= deadline)
        throw new Error(
          `instance refresh ${active.InstanceRefreshId} of ${group} is still ${active.Status} (${active.PercentageComplete ?? 0}% done)` +
            ` after ${i.timeoutSec} s. Updating the group now would cancel it: wait for it, or cancel it yourself` +
            ` (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${group}), then run \`pulumi up\` again.`,
        );
      await deps.sleep(i.pollSec * 1000);
    }
  }
  return { waitedFor: waitedFor.join(",") };
}

/** Inputs whose change runs the resource again. */
const WATCHED = ["region", "autoScalingGroupName", "launchTemplateId", "launchTemplateVersion", "tagKey", "tagValue"];

/** The dynamic provider: `wait` for InstanceRefreshWaiter, `guard` for InstanceRefreshGuard. */
export function refreshProvider(mode: "wait" | "guard", deps: RefreshDeps): pulumi.dynamic.ResourceProvider {
  const run = async (inputs: any) => {
    const outs = mode === "wait" ? await waitForRefresh(deps, inputs) : await waitUntilNoActiveRefresh(deps, inputs);
    return { ...inputs, ...outs };
  };
  return {
    async diff(_id: string, olds: any, news: any) {
      return { changes: WATCHED.some((k) => olds[k] !== news[k]), deleteBeforeReplace: false };
    },
    async create(inputs: any) {
      return { id: `${mode}-${inputs.autoScalingGroupName ?? inputs.tagValue}`, outs: await run(inputs) };
    },
    async update(_id: string, _olds: any, news: any) {
      return { outs: await run(news) };
    },
    async delete() {
      // Nothing to undo: the refresh belongs to the group.
    },
  };
}

/** The SDK behind the provider at deployment time. */
export const sdkDeps: RefreshDeps = {
  client(region: string) {
    const { AutoScalingClient } = require("@aws-sdk/client-auto-scaling");
    return new AutoScalingClient({ region });
  },
  sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

const providers = { wait: refreshProvider("wait", sdkDeps), guard: refreshProvider("guard", sdkDeps) };

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Runs after the group's update: succeeds when the refresh of this launch template version did. */
export class InstanceRefreshWaiter extends pulumi.dynamic.Resource {
  /** Id of the refresh waited for; empty when the group was created with this version. */
  declare public readonly refreshId: pulumi.Output<string>;
  /** Successful, or NoRefresh. */
  declare public readonly status: pulumi.Output<string>;
  /** The launch template version the group runs once this resource exists. */
  declare public readonly launchTemplateVersion: pulumi.Output<string>;

  constructor(name: string, args: In<WaiterInputs>, opts?: pulumi.CustomResourceOptions, provider = providers.wait) {
    super(
      provider,
      name,
      { ...args, refreshId: undefined, status: undefined },
      opts,
      undefined,
      "InstanceRefreshWaiter",
    );
  }
}

/** Runs before the group's update: no update while a refresh of this fleet's group is active. */
export class InstanceRefreshGuard extends pulumi.dynamic.Resource {
  /** Ids of the refreshes it waited for, comma-separated; empty when none was active. */
  declare public readonly waitedFor: pulumi.Output<string>;

  constructor(name: string, args: In<GuardInputs>, opts?: pulumi.CustomResourceOptions, provider = providers.guard) {
    super(provider, name, { ...args, waitedFor: undefined }, opts, undefined, "InstanceRefreshGuard");
  }
}
