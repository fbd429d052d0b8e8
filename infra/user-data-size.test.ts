// EC2 refuses user-data above 16 KB as it is given (before base64): the config is checked against what
// the stack sends for its names, rendered by the real renderers, on both paths (npm run render, pulumi up).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { renderNodeUserData } from "../host/haproxy/nodeUserData";
import { renderUserData, userDataLimitBytes } from "../host/userData";
import { runProgram, setupMocks } from "../test/support/pulumi-mocks";
import { ConfigError, StackConfig, loadStack, loadStackFile, readPulumiConfig } from "./config";
import { hostInputOf, nodeInputOf } from "./host-input";
import { createStack } from "./stack";
import { projectRoot as root, stackFileConfig, tempBundle } from "../test/support/stack-config";
import { SentUserData, checkUserDataSize, measureUserData, sentUserData, worstCaseBundle } from "./user-data-size";

// A node user-data that has grown past the limit even gzipped (as if a large host file were added), for
// the both-paths test: 24 KB of base64 noise, which gzip cannot shrink below 16 KB.
const grown = vi.hoisted(() => ({
  on: false,
  noise: require("node:crypto").randomBytes(18_000).toString("base64") as string,
}));
vi.mock("../host/haproxy/nodeUserData", async (original) => {
  const real = await original<typeof import("../host/haproxy/nodeUserData")>();
  return {
    ...real,
    renderNodeUserData: (o: Parameters<typeof real.renderNodeUserData>[0]) =>
      real.renderNodeUserData(o) + (grown.on ? `# ${grown.noise}\n` : ""),
  };
});

const region = "us-east-1";
const dev = (): StackConfig => loadStackFile("dev", root);
/** The longest names the schema takes: serviceName 32 characters (contract/service.ts), env 16. */
const longest = (): StackConfig => ({
  ...dev(),
  serviceName: "payments-gateway-service-euwest1",
  env: "staging-euwest-1",
});

describe("user-data size", () => {
  it("measures what EC2 is given: the service host's and the HAProxy node's gzipped cloud-configs", () => {
    const c = { ...dev(), loadBalancer: "haproxy" as const };
    const host = renderUserData(hostInputOf(c, { region, ...worstCaseBundle(c) }));
    const node = renderNodeUserData(nodeInputOf(c, region));
    expect(measureUserData(c, region)).toEqual([
      { what: "service host user-data", encoding: "gzip", bytes: gzipSync(host, { level: 9 }).length },
      { what: "HAProxy node user-data", encoding: "gzip", bytes: gzipSync(node, { level: 9 }).length },
    ]);
    // The ALB flavor has no HAProxy nodes.
    expect(measureUserData(dev(), region).map((m) => m.what)).toEqual(["service host user-data"]);
  });

  it("sizes the release for the longest bucket name S3 allows and a real digest, not the render placeholder", () => {
    const b = worstCaseBundle(dev());
    expect(b.bundleUrl).toMatch(/^s3:\/\/sample-api-bucket-[0-9a-f]+\/releases\/[0-9a-f]{64}\.js$/);
    expect(b.bundleUrl.split("/")[2]).toHaveLength(63);
    expect(b.bundleSha256).not.toMatch(/^0+$/);
  });

  it("accepts the longest names as the stack sends them (gzipped), and would refuse them sent as text", () => {
    const c = { ...longest(), loadBalancer: "haproxy" as const };
    expect(checkUserDataSize(c, region)).toEqual([]);
    // The service host's sent as text, as components/fleet sent it before host/userData.ts's gzip: EC2 refuses it.
    const asText: SentUserData[] = sentUserData.map((s) =>
      s.what === "service host user-data" ? { ...s, encoding: "text" } : s,
    );
    const [problem, ...more] = checkUserDataSize(c, region, asText);
    expect(more).toEqual([]);
    const bytes = Buffer.byteLength(renderUserData(hostInputOf(c, { region, ...worstCaseBundle(c) })));
    expect(bytes).toBeGreaterThan(userDataLimitBytes);
    expect(problem).toEqual({
      field: "serviceName",
      message:
        `the service host user-data for serviceName "payments-gateway-service-euwest1" and env "staging-euwest-1" is ${bytes} bytes as sent (text); ` +
        "EC2 takes at most 16384 (16 KB, before base64): shorten serviceName or env",
    });
  });

  it.each(["alb", "haproxy"] as const)(
    "never measures less than the %s stack gives EC2, so its table says how each user-data is sent",
    async (loadBalancer) => {
      const bundle = tempBundle("console.log('size')\n");
      try {
        const { config, secretKeys } = stackFileConfig("prod", { loadBalancer });
        const rec = await setupMocks({ config, secretKeys, stack: "prod" });
        await runProgram(() => ({ ...createStack({ bundlePath: bundle.file }) }));
        // Every user-data of the program, as given to EC2: base64 on a launch template or in userDataBase64, text in userData.
        const given = [
          ...rec.ofType("aws:ec2/launchTemplate:LaunchTemplate").map((r) => Buffer.from(r.inputs.userData, "base64")),
          ...rec
            .ofType("aws:ec2/instance:Instance")
            .map((r) =>
              r.inputs.userDataBase64 ? Buffer.from(r.inputs.userDataBase64, "base64") : Buffer.from(r.inputs.userData),
            ),
        ];
        expect(given.length).toBeGreaterThan(0);
        const measured = Object.fromEntries(
          measureUserData({ ...loadStackFile("prod", root), loadBalancer }, "us-east-1").map((m) => [m.what, m]),
        );
        for (const sent of given) {
          const gzipped = sent[0] === 0x1f && sent[1] === 0x8b;
          const text = (gzipped ? gunzipSync(sent) : sent).toString("utf8");
          const what = text.includes("rendered by host/haproxy/nodeUserData.ts")
            ? "HAProxy node user-data"
            : "service host user-data";
          expect(measured[what]?.encoding, what).toBe(gzipped ? "gzip" : "text");
          expect(sent.length, what).toBeLessThanOrEqual(measured[what]!.bytes);
        }
      } finally {
        bundle.dispose();
      }
    },
  );

  it("runs on both paths: npm run render (the stack file) and pulumi up (the runtime) refuse the same config", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "user-data-"));
    grown.on = true;
    try {
      fs.writeFileSync(
        path.join(dir, "Pulumi.dev.yaml"),
        `${fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")}  node-service-aws:loadBalancer: haproxy\n`,
      );
      const message =
        /^serviceName: the HAProxy node user-data for serviceName "sample-api" and env "dev" is \d+ bytes as sent \(gzip\); EC2 takes at most 16384/;
      let error: unknown;
      try {
        loadStack("dev", dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).errors).toEqual([expect.stringMatching(message)]);
      const { config, secretKeys } = stackFileConfig("dev", { loadBalancer: "haproxy" });
      await setupMocks({ config, secretKeys, stack: "dev" });
      expect(() => readPulumiConfig()).toThrow(message);
    } finally {
      grown.on = false;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
