// The instance refresh waiter and guard against a mocked Auto Scaling client (real AWS SDK v3 commands, a `send`
// that answers from a script: no network) and a fake clock. Statuses and their meaning: DescribeInstanceRefreshes
// API reference (InstanceRefresh.Status). Why the provider needs them: @pulumi/aws GroupInstanceRefresh.triggers,
// "This resource does not wait for the instance refresh to complete" and "When this resource is updated, any
// existing refresh is cancelled".
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runProgram, setupMocks } from "../../test/support/pulumi-mocks";
import {
  GuardInputs,
  InstanceRefreshWaiter,
  RefreshDeps,
  RefreshView,
  WaiterInputs,
  refreshOf,
  refreshProvider,
  waitForRefresh,
  waitUntilNoActiveRefresh,
} from "./refresh";

const lt = { id: "lt-0abc", version: "7" };
const waiter: WaiterInputs = {
  region: "us-east-1",
  autoScalingGroupName: "svc-asg-x1",
  launchTemplateId: lt.id,
  launchTemplateVersion: lt.version,
  timeoutSec: 600,
  pollSec: 15,
};
const guard: GuardInputs = {
  region: "us-east-1",
  tagKey: "node-service-aws:fleet",
  tagValue: "p/s/svc",
  launchTemplateVersion: "7",
  timeoutSec: 600,
  pollSec: 15,
};

const refresh = (id: string, status: string, version = lt.version, extra: Partial<RefreshView> = {}): RefreshView => ({
  InstanceRefreshId: id,
  Status: status,
  StartTime: new Date(`2026-01-0${(id.length % 9) + 1}T00:00:00Z`),
  PercentageComplete: 50,
  DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: lt.id, Version: version } },
  ...extra,
});

/** A client whose DescribeInstanceRefreshes answers the next page of `pages` each call (the last one repeats). */
function fake(pages: RefreshView[][], groups: string[] = ["svc-asg-x1"]) {
  const sent: { command: string; input: any }[] = [];
  let call = 0;
  let clock = 0;
  const deps: RefreshDeps = {
    client: (region) => {
      expect(region).toBe("us-east-1");
      return {
        async send(command: any) {
          sent.push({ command: command.constructor.name, input: command.input });
          if (command.constructor.name === "DescribeAutoScalingGroupsCommand")
            return { AutoScalingGroups: groups.map((g) => ({ AutoScalingGroupName: g })) };
          if (command.constructor.name === "DescribeInstanceRefreshesCommand")
            return { InstanceRefreshes: pages[Math.min(call++, pages.length - 1)] };
          throw new Error(`unexpected ${command.constructor.name}`);
        },
      };
    },
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
  };
  return { deps, sent, elapsed: () => clock / 1000 };
}

describe("which refresh is this release's", () => {
  it("the newest whose desired configuration is this launch template version", () => {
    const older = refresh("r-1", "RollbackSuccessful", "7", { StartTime: "2026-01-01T00:00:00Z" });
    const newer = refresh("r-2", "InProgress", "7", { StartTime: "2026-01-02T00:00:00Z" });
    expect(refreshOf([older, refresh("r-3", "Successful", "8"), newer], lt)?.InstanceRefreshId).toBe("r-2");
    expect(refreshOf([refresh("r-3", "Successful", "8")], lt)).toBeUndefined();
  });
});

describe("InstanceRefreshWaiter's provider logic", () => {
  it("polls DescribeInstanceRefreshes until the refresh of this version is Successful", async () => {
    const f = fake([
      [refresh("r-9", "Pending")],
      [refresh("r-9", "InProgress")],
      [refresh("r-9", "Baking")],
      [refresh("r-9", "Successful")],
    ]);
    expect(await waitForRefresh(f.deps, waiter)).toEqual({ refreshId: "r-9", status: "Successful" });
    expect(f.sent).toHaveLength(4);
    expect(f.sent[0]).toEqual({
      command: "DescribeInstanceRefreshesCommand",
      input: { AutoScalingGroupName: "svc-asg-x1", NextToken: undefined },
    });
    expect(f.elapsed()).toBe(45);
  });

  it.each(["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"])(
    "fails the update when it ends %s, naming the refresh and the status reason",
    async (status) => {
      const f = fake([
        [refresh("r-9", "InProgress")],
        [refresh("r-9", status, "7", { StatusReason: "Alarm a5xx went into ALARM" })],
      ]);
      await expect(waitForRefresh(f.deps, waiter)).rejects.toThrow(
        `instance refresh r-9 of svc-asg-x1 (launch template version 7) ended ${status}: Alarm a5xx went into ALARM. Version 7 is not released.`,
      );
    },
  );

  it("after an automatic rollback it says the group runs the previous version and how to bring the state back", async () => {
    const f = fake([
      [refresh("r-9", "InProgress")],
      [refresh("r-9", "RollbackInProgress")],
      [refresh("r-9", "RollbackSuccessful")],
    ]);
    await expect(waitForRefresh(f.deps, waiter)).rejects.toThrow(/runs the previous version again: `pulumi refresh`/);
    expect(f.sent).toHaveLength(3);
  });

  it("gives up after the timeout with the refresh id, status and progress, and leaves the refresh running", async () => {
    const f = fake([[refresh("r-9", "InProgress", "7", { PercentageComplete: 34 })]]);
    await expect(waitForRefresh(f.deps, { ...waiter, timeoutSec: 120 })).rejects.toThrow(
      /^instance refresh r-9 of svc-asg-x1 \(launch template version 7\) is InProgress \(34% done\) after 120 s; it keeps running/,
    );
    expect(f.elapsed()).toBe(120);
    expect(f.sent.every((s) => s.command === "DescribeInstanceRefreshesCommand")).toBe(true);
  });

  it("ignores the refreshes of other versions; none of its own (a group created with it): done after a second look", async () => {
    const f = fake([[refresh("r-1", "RollbackSuccessful", "6")]]);
    expect(await waitForRefresh(f.deps, waiter)).toEqual({ refreshId: "", status: "NoRefresh" });
    expect(f.sent).toHaveLength(2);
  });

  it("reads every page", async () => {
    const sent: any[] = [];
    const pages = [
      { InstanceRefreshes: [refresh("r-1", "Successful", "6")], NextToken: "t1" },
      { InstanceRefreshes: [refresh("r-2", "Successful")] },
    ];
    const deps: RefreshDeps = {
      client: () => ({
        send: async (c: any) => {
          sent.push(c.input);
          return pages[sent.length - 1];
        },
      }),
      sleep: async () => {},
      now: () => 0,
    };
    expect(await waitForRefresh(deps, waiter)).toEqual({ refreshId: "r-2", status: "Successful" });
    expect(sent.map((i) => i.NextToken)).toEqual([undefined, "t1"]);
  });
});

describe("InstanceRefreshGuard's provider logic", () => {
  it("finds the fleet's group by its tag; with no active refresh it returns at once", async () => {
    const f = fake([[refresh("r-1", "Successful", "6")]]);
    expect(await waitUntilNoActiveRefresh(f.deps, guard)).toEqual({ waitedFor: "" });
    expect(f.sent[0]).toEqual({
      command: "DescribeAutoScalingGroupsCommand",
      input: { Filters: [{ Name: "tag:node-service-aws:fleet", Values: ["p/s/svc"] }], NextToken: undefined },
    });
    expect(f.elapsed()).toBe(0);
  });

  it("no group yet (the first up): nothing to wait for", async () => {
    const f = fake([[]], []);
    expect(await waitUntilNoActiveRefresh(f.deps, guard)).toEqual({ waitedFor: "" });
    expect(f.sent.map((s) => s.command)).toEqual(["DescribeAutoScalingGroupsCommand"]);
  });

  it("waits for a refresh an earlier up left running instead of letting the update cancel it", async () => {
    const f = fake([
      [refresh("r-5", "InProgress", "6")],
      [refresh("r-5", "RollbackInProgress", "6")],
      [refresh("r-5", "RollbackSuccessful", "6")],
    ]);
    expect(await waitUntilNoActiveRefresh(f.deps, guard)).toEqual({ waitedFor: "r-5" });
    expect(f.elapsed()).toBe(30);
  });

  it("fails naming the refresh when it is still active at the timeout, and never cancels it", async () => {
    const f = fake([[refresh("r-5", "InProgress", "6")]]);
    await expect(waitUntilNoActiveRefresh(f.deps, { ...guard, timeoutSec: 60 })).rejects.toThrow(
      /^instance refresh r-5 of svc-asg-x1 is still InProgress \(50% done\) after 60 s\. Updating the group now would cancel it/,
    );
    expect(f.sent.some((s) => /Cancel/.test(s.command))).toBe(false);
  });
});

describe("the dynamic provider", () => {
  const unreachable: RefreshDeps = {
    client: () => {
      throw new Error("diff must not call AWS");
    },
    sleep: async () => {},
    now: () => 0,
  };

  it("a preview calls no AWS API: no check, and diff only compares inputs (a new version is a change, a new timeout is not)", async () => {
    const p = refreshProvider("wait", unreachable);
    expect(p.check).toBeUndefined();
    expect(await p.diff!("id", waiter, { ...waiter, launchTemplateVersion: "8" })).toMatchObject({ changes: true });
    expect(await p.diff!("id", waiter, { ...waiter, timeoutSec: 900 })).toMatchObject({ changes: false });
    expect(p.read).toBeUndefined();
  });

  it("create and update run the wait and keep the inputs in the outputs", async () => {
    const f = fake([[refresh("r-9", "Successful")]]);
    const p = refreshProvider("wait", f.deps);
    expect(await p.create!(waiter)).toEqual({
      id: "wait-svc-asg-x1",
      outs: { ...waiter, refreshId: "r-9", status: "Successful" },
    });
    await expect(
      refreshProvider("wait", fake([[refresh("r-9", "Failed")]]).deps).update!("id", waiter, waiter),
    ).rejects.toThrow(/ended Failed/);
  });

  it("serializes under the mocks into a module that loads and runs on its own", async () => {
    const rec = await setupMocks();
    await runProgram(() => {
      new InstanceRefreshWaiter("w", waiter);
      return {};
    });
    const resource = rec.ofType("pulumi-nodejs:dynamic:InstanceRefreshWaiter")[0]!;
    const text = resource.inputs.__provider as string;
    expect(text).toMatch(/require\("@aws-sdk\/client-auto-scaling"\)/);
    expect(text).not.toMatch(/vitest|__vite_ssr|pulumi-mocks/);
    // Loaded the way the dynamic provider host loads it (from the program's folder), then asked for a diff.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "refresh-provider-"));
    try {
      fs.writeFileSync(path.join(dir, "provider.js"), text);
      const probe = `const M = require("module"); const m = new M(${JSON.stringify(path.join(dir, "provider.js"))});
        m.paths = M._nodeModulePaths(process.cwd()); m._compile(require("fs").readFileSync(${JSON.stringify(path.join(dir, "provider.js"))}, "utf8"), "provider.js");
        const p = m.exports.handler();
        p.diff("id", { launchTemplateVersion: "1" }, { launchTemplateVersion: "2" }).then((d) => console.log(JSON.stringify({ d, ops: ["create", "update", "delete"].map((k) => typeof p[k]) })));`;
      const r = spawnSync(process.execPath, ["-e", probe], {
        cwd: path.resolve(__dirname, "../.."),
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        d: { changes: true, deleteBeforeReplace: false },
        ops: ["function", "function", "function"],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
