// AWS's SSM Agent signing key, the one its .deb and .rpm detached signatures are made with since July 2026:
// "SSM Agent <ssm-agent-signer@amazon.com>", RSA 4096, created 2026-06-04, expires 2027-11-25 (the key AWS
// publishes on "Verifying the signature of SSM Agent", verify-agent-signature.html#verify-agent-signature-current).
// Stored as a binary OpenPGP keyring (gpg --export --export-options export-minimal), base64, so that gpgv reads
// it as is and the user-data stays small. keys.test.ts holds the fingerprint and fails 60 days before expiry.

/** Fingerprint of the key below. */
export const amazonSsmAgentKeyFingerprint = "1C5B395CBE5E74E2F1CA21592784DBF388D19D46";

/** The keyring gpgv checks amazon-ssm-agent.deb.sig against, base64. */
export const amazonSsmAgentKeyring = [
  "mQINBGohhG8BEACxNOk7TM1ywHjW0qrSyH9npRDUjpWAyCD8L1Yu7nLnxwEBtUOkHgQIo1scTWuwogaBZpAzg22A25AloOrhX8BG",
  "Tokh71Xm3LbQT8dDQUDT7WRTl4R5p7786TN79p4DqD3/JyzjiD/keTYyhplBWdyk5BEcqlyVj9Pf/1O6CrOJgGD1oGYK7lRqMtmX",
  "lf86/mKveWvjJTPAF26dkDJZecnrheyEA99XlONm8zAlK6h09JThHBmWMgDPXDSsVeEyXilPUJFhZJ2HXVG2tS9ioVM309tMX6B3",
  "W5woT7w8SA6uV2Pf0jMmoYmMuCmQMU8/7/vOLQSJm+6Wui5dZywArqtOqXcSledRf7xhmug3Qa5maqY2TtcnXqTaH3WaBLtJZYqD",
  "JcsUH99AXqdQkozsCHHL2NmxRiShyLCX4VBKzH8j5kDNGeSLuiICbj1Tufh7LDuIwdOQnX9gvB6j/SF3YVqJl4DAjCs4ODYpwm+3",
  "6RZjQkbwELzXzXnDoNgjR5tXCiNdxJLuzemQy7FcDc90fEbpDX03rN7iceavBmZbZ5Tlu53fgpzdkflD8OwfjnYa9AXh2zweC1G0",
  "ut2QU+cZcoOq5/QPtQELNqvgpAUsQtkCECTerz8SugriZD4Tnd4FJUgoqX+/iwCWesyWjGkotxi7aJluLtz+znNT9SgeMCoJmQAR",
  "AQABtCdTU00gQWdlbnQgPHNzbS1hZ2VudC1zaWduZXJAYW1hem9uLmNvbT6JAj8EEwECACkFAmohhG8CGy8FCQLGmIAHCwkIBwMC",
  "AQYVCAIJCgsEFgIDAQIeAQIXgAAKCRAnhNvziNGdRnXVD/9bP0IX6aU+qur66fTWs8RLDs//6Vx93e8lH6p4W+RxL+wW7Ajc/REB",
  "7PPgc5ohW80/LwxHP2g8cZiSK7fp9cRbXODqiVYl4mAWQNfxfGcWpBxcEsyoUGF6oRjiibL1BcJLFJgVZ/H4pT0xNEDJNIJpRn7Z",
  "VXm0vrVVVUh4a4WFXUkspRXmq37eIMm76p969L5SNjY+F8Ld6hjmRiRopg4f/+lf/+e6R+fofSOVE3Ip/YpPH1DRplwQJrMk1XFj",
  "m+JTsdtqMTIKv38j7HANmUgDGLsuQNn8048n6ve8koVZLSrv9FAielSNsSIurLEpkLM0QPOFviagK7zB/d/zScpGquBU9dPFOoTq",
  "/sNFhnZr+PA7MAekr4WOP8kasS3LWGn/rqqIOw/PDm2mmUaIwm4XenOe8lJFKUGp6ssUOj4PIQKwGaL/S2xTex25ZaNQaKXv2JUm",
  "riGycpCjIaniEHz60bBN1kSgO0m0a5Yg3X9Qw+ezt51oPi6H6NdE0IwNzNcbJI2UvphwR9L92Br/J9ElYbHRdgmz26SZeRNTht/+",
  "zKPxk4iDYibpQ804cPfA0mJBODwzqL5BBfVJ0/rLtQ2ymuHaqKbKEc0KuJ6vWMoH9qlMBlv5YiZeUw5Ls2uuaxhKTUYrCE4LuUlA",
  "tNW63+/TP+ciBg1bq5H5aBn5tSCYVw==",
].join("");
