// The docker target's components under Pulumi's mocks: what a release changes, what the args refuse, and the
// log settings. The whole local stack runs through the stand-in engine in infra/docker.test.ts.
import * as fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { serviceDefaults } from "../../contract/service";
import { settle, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { tempBundle } from "../../test/support/stack-config";
import { DockerLoggingError, dockerLogArgs } from "../_shared/dockerContainer";
import { DockerHaproxy } from "../docker-haproxy";
import { DockerService } from "./index";

const mocks = useMocks();
const release1 = tempBundle("console.log('release 1')\n");
const release2 = tempBundle("console.log('release 2')\n");
afterAll(() => {
  release1.dispose();
  release2.dispose();
});

describe("DockerService", () => {
  it("tags the image by its content: same bundle, same tag; a new bundle, a new tag and new container inputs", async () => {
    const a = new DockerService("a", { env: "local", bundlePath: release1.file });
    const b = new DockerService("b", { env: "local", bundlePath: release1.file });
    const c = new DockerService("c", { env: "local", bundlePath: release2.file });
    const [ra, rb, rc] = await Promise.all([a, b, c].map((s) => valueOf(s.imageRef)));
    expect(ra).toMatch(/^sample-api:[0-9a-f]{12}$/);
    expect(rb).toBe(ra);
    expect(rc).not.toBe(ra);
    await settle();
    const containers = mocks.ofType("docker:index/container:Container");
    expect(containers.map((x) => x.name)).toEqual(["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"]);
    expect(containers.find((x) => x.name === "c-1")!.inputs.image).toBe(rc);
    expect(a.dnsName).toBe("fleet.sample-api.local.internal");
  });

  it("refuses a bad container count, a relative or missing bundle, with the component and the fix", () => {
    expect(() => new DockerService("x", { env: "local", bundlePath: release1.file, containers: 0 })).toThrow(
      /DockerService x: containers: 0 must be an integer 1-100/,
    );
    expect(() => new DockerService("y", { env: "local", bundlePath: "dist/app/server.js" })).toThrow(
      /bundlePath: dist\/app\/server\.js must be an absolute path/,
    );
    const missing = `${release1.file}.missing`;
    expect(fs.existsSync(missing)).toBe(false);
    expect(() => new DockerService("z", { env: "local", bundlePath: missing })).toThrow(
      /not found: run npm run build first/,
    );
  });

  it("is reached by HAProxy through the same DNS name, with twice the slots", async () => {
    const app = new DockerService("app", { env: "local", bundlePath: release1.file, containers: 3 });
    const haproxy = new DockerHaproxy("lb", {
      service: serviceDefaults,
      networkName: app.networkName,
      dnsName: app.dnsName,
      serverSlots: 6,
    });
    expect(haproxy.haproxyConfig).toContain("server-template app 6 fleet.sample-api.local.internal:3000 ");
    expect(await valueOf(haproxy.url)).toBe("http://127.0.0.1:8080");
  });
});

describe("dockerLogArgs", () => {
  it("rotates json-file by size by default, tags journald lines, refuses what Docker would", () => {
    expect(dockerLogArgs({ tag: "s" })).toEqual({
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
    });
    expect(dockerLogArgs({ driver: "journald", tag: "s" })).toEqual({ logDriver: "journald", logOpts: { tag: "s" } });
    expect(() => dockerLogArgs({ tag: "s", maxSize: "10MB" })).toThrow(DockerLoggingError);
    expect(() => dockerLogArgs({ tag: "s", driver: "syslog" as "journald" })).toThrow(/must be json-file or journald/);
  });
});
