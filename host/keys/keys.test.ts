// The public keys the boot trusts, read by gpg as a host reads them: the SSM agent keyring holds exactly
// AWS's signing key, and it is still valid 60 days from now (rotate it before then: AWS publishes the next key
// on "Verifying the signature of SSM Agent" ahead of the expiry).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { testKeys } from "../../test/support/bootHarness";
import { withHostBaseDefaults } from "../input";
import { tempDir, tool } from "../../test/support/tools";
import { amazonSsmAgentKeyFingerprint, amazonSsmAgentKeyring } from "./amazonSsmAgent";

const day = 86_400_000;

/** Primary keys of a binary keyring, as `gpg --show-keys --with-colons` lists them. */
function primaryKeys(keyring: Buffer): { fingerprint: string; expires?: Date; uid: string }[] {
  const r = spawnSync(tool("gpg"), ["--batch", "--show-keys", "--with-colons"], { input: keyring, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gpg --show-keys: ${r.stderr}`);
  const lines = r.stdout.split("\n").map((l) => l.split(":"));
  return lines.flatMap((l, n) => {
    if (l[0] !== "pub") return [];
    const fpr = lines[n + 1]!;
    const uid = lines.slice(n + 1).find((x) => x[0] === "uid");
    return [{ fingerprint: fpr[9]!, expires: l[6] ? new Date(Number(l[6]) * 1000) : undefined, uid: uid?.[9] ?? "" }];
  });
}

describe("SSM agent keyring", () => {
  const keys = primaryKeys(Buffer.from(amazonSsmAgentKeyring, "base64"));

  it("holds exactly AWS's SSM Agent signing key, and is the default the boot uses", () => {
    expect(keys.map((k) => [k.fingerprint, k.uid])).toEqual([
      ["1C5B395CBE5E74E2F1CA21592784DBF388D19D46", "SSM Agent <ssm-agent-signer@amazon.com>"],
    ]);
    expect(amazonSsmAgentKeyFingerprint).toBe(keys[0]!.fingerprint);
    expect(withHostBaseDefaults({ env: "prod" }).ssmAgent.keyring).toBe(amazonSsmAgentKeyring);
  });

  it("is a keyring gpgv reads as the boot writes it: another key's signature is refused for want of that key", () => {
    const dir = tempDir("keys");
    const other = testKeys(dir);
    try {
      const fpr = other.create("Not AWS <x@example.test>");
      const file = path.join(dir, "amazon-ssm-agent.deb");
      fs.writeFileSync(file, "stand-in package");
      other.sign(fpr, file);
      const keyring = path.join(dir, "amazon-ssm-agent.gpg");
      fs.writeFileSync(keyring, Buffer.from(amazonSsmAgentKeyring, "base64"));
      const r = spawnSync(tool("gpgv"), ["--keyring", keyring, `${file}.sig`, file], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/No public key/);
      expect(r.stderr).not.toMatch(/keyblock resource|invalid/i);
    } finally {
      other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is valid for at least 60 more days", () => {
    const expires = keys[0]!.expires;
    expect(expires, "the key has no expiry date").toBeDefined();
    const left = Math.floor((expires!.getTime() - Date.now()) / day);
    expect(
      left,
      `AWS's SSM Agent key expires ${expires!.toISOString().slice(0, 10)} (${left} days): put the current key from ` +
        "docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html into host/keys/amazonSsmAgent.ts",
    ).toBeGreaterThanOrEqual(60);
  });
});
