// The stand-in engine on its own, through the SDK's own gRPC client classes: it must refuse what a real
// deployment would refuse (an unknown invoke, an unreadable asset), say no to features it does not implement,
// apply the engine's option inheritance, and be gone after stop().
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ASSET_SIG, SIG_KEY } from "../wire";
import { StandInEngine, protocol } from "./standin";

const { grpc, resourceGrpc, resourcePb, Struct, Empty } = protocol;
let dir: string;
let engine: StandInEngine;
let client: any;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
  fs.writeFileSync(path.join(dir, "bundle.js"), "release\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  client?.close();
  await engine?.stop();
});

async function start(dryRun = false) {
  engine = await StandInEngine.start({ stack: "dev", project: "proj", dryRun, programDir: dir });
  client = new resourceGrpc.ResourceMonitorClient(engine.address, grpc.credentials.createInsecure());
}

const call = <T>(method: string, req: unknown) =>
  new Promise<T>((resolve, reject) =>
    client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  );

function register(
  type: string,
  name: string,
  object: Record<string, unknown>,
  opts: { parent?: string; custom?: boolean; protect?: boolean; retainOnDelete?: boolean } = {},
) {
  const req = new resourcePb.RegisterResourceRequest();
  req.setType(type);
  req.setName(name);
  req.setParent(opts.parent ?? "");
  req.setCustom(opts.custom ?? true);
  req.setObject(Struct.fromJavaScript(object));
  if (opts.protect !== undefined) req.setProtect(opts.protect);
  if (opts.retainOnDelete !== undefined) req.setRetainondelete(opts.retainOnDelete);
  return call<any>("registerResource", req);
}

describe("stand-in engine", () => {
  it("listens on 127.0.0.1 only", async () => {
    await start();
    expect(engine.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("fails an invoke it has no answer for, and answers one from the shared table", async () => {
    await start();
    const unknown = new resourcePb.ResourceInvokeRequest();
    unknown.setTok("aws:rds/getInstance:getInstance");
    unknown.setArgs(Struct.fromJavaScript({}));
    const res = await call<any>("invoke", unknown);
    expect(res.getFailuresList().map((f: any) => f.getReason())).toEqual([
      expect.stringMatching(/no answer for aws:rds\/getInstance:getInstance/),
    ]);
    const known = new resourcePb.ResourceInvokeRequest();
    known.setTok("aws:index/getRegion:getRegion");
    known.setArgs(Struct.fromJavaScript({}));
    expect((await call<any>("invoke", known)).getReturn().toJavaScript()).toMatchObject({ region: "us-east-1" });
    expect(engine.invokes.map((i) => [i.tok, i.answered])).toEqual([
      ["aws:rds/getInstance:getInstance", false],
      ["aws:index/getRegion:getRegion", true],
    ]);
  });

  it("supports only the features it implements", async () => {
    await start();
    const ask = async (id: string) => {
      const req = new resourcePb.SupportsFeatureRequest();
      req.setId(id);
      return (await call<any>("supportsFeature", req)).getHassupport();
    };
    expect(await ask("secrets")).toBe(true);
    expect(await ask("aliasSpecs")).toBe(true);
    expect(await ask("transforms")).toBe(false);
    expect(await ask("resourceHooks")).toBe(false);
    expect(await ask("no-such-feature")).toBe(false);
  });

  it("hashes a file asset from the program directory and refuses one it cannot read, as the engine does", async () => {
    await start();
    const res = await register("aws:s3/bucketObjectv2:BucketObjectv2", "obj", {
      key: "k",
      source: { [SIG_KEY]: ASSET_SIG, path: "bundle.js" },
    });
    expect(res.getUrn()).toBe("urn:pulumi:dev::proj::aws:s3/bucketObjectv2:BucketObjectv2::obj");
    const node = engine.graph.nodes.get(res.getUrn())!;
    expect((node.inputs.source as Record<string, unknown>).hash).toBe(
      createHash("sha256").update("release\n").digest("hex"),
    );
    await expect(
      register("aws:s3/bucketObjectv2:BucketObjectv2", "gone", {
        source: { [SIG_KEY]: ASSET_SIG, path: "dist/app/server.js" },
      }),
    ).rejects.toThrow(/failed to open asset file '.*dist\/app\/server\.js'/);
    expect(engine.errors).toHaveLength(1);
  });

  it("answers a preview with the inputs and no id, an update with an id and computed outputs", async () => {
    await start(true);
    const preview = await register("aws:s3/bucket:Bucket", "b", { forceDestroy: false });
    expect([preview.getId(), preview.getObject().toJavaScript()]).toEqual(["", { forceDestroy: false }]);
    await engine.stop();
    await start(false);
    const update = await register("aws:s3/bucket:Bucket", "b", { forceDestroy: false });
    expect(update.getId()).toBe("b-id");
    expect(update.getObject().toJavaScript()).toMatchObject({
      forceDestroy: false,
      bucket: "b-a1b2c3",
      arn: "arn:aws:s3:::b-a1b2c3",
    });
  });

  it("gives a child its parent's protect and retainOnDelete unless the child sets its own", async () => {
    await start();
    const parent = (
      await register("node-service:bundle:Bundle", "svc", {}, { custom: false, protect: true, retainOnDelete: true })
    ).getUrn();
    const inherits = (await register("aws:s3/bucket:Bucket", "svc-bucket", {}, { parent })).getUrn();
    const own = (
      await register(
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "svc-release",
        {},
        { parent, protect: false, retainOnDelete: false },
      )
    ).getUrn();
    expect(inherits).toBe("urn:pulumi:dev::proj::node-service:bundle:Bundle$aws:s3/bucket:Bucket::svc-bucket");
    const n = (urn: string) => engine.graph.nodes.get(urn)!;
    expect([n(inherits).protect, n(inherits).retainOnDelete, n(inherits).options.protect]).toEqual([
      true,
      true,
      undefined,
    ]);
    expect([n(own).protect, n(own).retainOnDelete]).toEqual([false, false]);
  });

  it("records and refuses what it does not implement, and is gone after stop()", async () => {
    await start();
    await expect(call("readResource", new resourcePb.ReadResourceRequest())).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
    expect(engine.unimplemented).toEqual(["readResource"]);
    await engine.stop();
    await expect(call("signalAndWaitForShutdown", new Empty())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });
});
