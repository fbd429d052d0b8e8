// user-data-no-secrets: a secret is found under every layer the user-data may wrap it in (base64, gzip, MIME parts,
// cloud-config write_files encodings), and a boot that reads its secrets from SSM passes.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ResourceSpec, runPolicy } from "../test/args";
import { userDataNoSecrets } from "./secrets";
import { secretFindings, userDataTexts } from "./userData";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const gz64 = (s: string) => gzipSync(Buffer.from(s)).toString("base64");
const DD_KEY = "0123456789abcdef0123456789abcdef";
const cloudConfig = (files: object[]) =>
  `#cloud-config\nwrite_files:\n${files.map((f) => `  - ${JSON.stringify(f)}`).join("\n")}\n`;
const launchTemplate = (userData: string, name = "lt"): ResourceSpec => ({
  type: "aws:ec2/launchTemplate:LaunchTemplate",
  name,
  props: { userData },
});
const parameter = (value: string): ResourceSpec => ({
  type: "aws:ssm/parameter:Parameter",
  name: "papertrail",
  // as the engine sends a secret input: wrapped with Pulumi's secret signature
  props: {
    type: "SecureString",
    value: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value },
  },
});

describe("user-data-no-secrets", () => {
  it("passes a gzipped cloud-config whose boot reads the key from SSM by name", async () => {
    const boot = [
      "ssm_datadog_api_key='/svc/prod/datadog-api-key'",
      'dd_api_key=$(aws ssm get-parameter --with-decryption --name "$ssm_datadog_api_key")',
      'write_secret /etc/svc/secrets/datadog.env "DD_API_KEY=$dd_api_key"',
      "curl -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' -X PUT http://169.254.169.254/latest/api/token",
    ].join("\n");
    const ud = gz64(cloudConfig([{ path: "/usr/local/sbin/boot", encoding: "gz+b64", content: gz64(boot) }]));
    expect(
      (await runPolicy(userDataNoSecrets, [launchTemplate(ud), parameter("logs9.example.com:12345")])).violations,
    ).toEqual([]);
  });

  it("fails a Datadog key inside gz+b64 write_files, a SecureString's value in plain user-data and an AWS key in a MIME part", async () => {
    const gzFile = gz64(
      cloudConfig([{ path: "/etc/dd.env", encoding: "gz+b64", content: gz64(`DD_API_KEY=${DD_KEY}\n`) }]),
    );
    const plain: ResourceSpec = {
      type: "aws:ec2/instance:Instance",
      name: "i",
      props: { userData: "#!/bin/sh\necho logs9.example.com:12345 > /etc/dest\n" },
    };
    const mime = [
      'Content-Type: multipart/mixed; boundary="XX"',
      "MIME-Version: 1.0",
      "",
      "--XX",
      "Content-Type: text/x-shellscript",
      "Content-Transfer-Encoding: base64",
      "",
      b64("#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n"),
      "--XX--",
    ].join("\n");
    const r = await runPolicy(userDataNoSecrets, [
      launchTemplate(gzFile),
      plain,
      { type: "aws:ec2/launchConfiguration:LaunchConfiguration", name: "lc", props: { userDataBase64: b64(mime) } },
      parameter("logs9.example.com:12345"),
    ]);
    expect(r.violations.map((v) => [v.urn?.split("::").pop(), v.message.split(":")[0]])).toEqual([
      ["lt", "user-data holds a Datadog API or application key"],
      ["lt", "user-data holds a literal value for DD_API_KEY"],
      ["i", "user-data holds the value of a secret of the stack"],
      ["lc", "user-data holds an AWS access key id"],
    ]);
  });
});

describe("userDataTexts / secretFindings", () => {
  it("opens base64 and gzip layers, and leaves text that is neither as it is", () => {
    expect(userDataTexts(gz64("#!/bin/sh\necho hi\n"))).toEqual(["#!/bin/sh\necho hi\n"]);
    expect(userDataTexts("echo plain")).toEqual(["echo plain"]);
  });
  it("names the kind of secret, never its value, and skips references, paths and numbers", () => {
    const text = `password=${"s3cr3tP4ss"}\ntoken: $TOKEN\nkey_file=/etc/x\nsecret_ttl=86400\n`;
    expect(secretFindings([text])).toEqual(["a literal value for password"]);
  });
});
