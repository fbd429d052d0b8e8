// No secret in clear text in user-data (policy/pack/userData.ts opens every layer): neither a value shaped like a
// credential, nor a literal for a setting named like one, nor the value of one of the stack's own secrets (its
// SSM SecureString parameters and Secrets Manager versions), which the hosts must read at boot instead.
import { PackPolicy, ofTypes, types } from "./common";
import { secretFindings, userDataTexts } from "./userData";

const holders = [...types.launchTemplate, ...types.launchConfiguration, ...types.instance];
const secretVersion = ["aws:secretsmanager/secretVersion:SecretVersion"];

export const userDataNoSecrets: PackPolicy = {
  name: "user-data-no-secrets",
  description:
    "User-data (base64, gzip, MIME parts and cloud-config write_files decoded) holds no credential-shaped value, no literal for a secret-named setting and no value of the stack's SecureString parameters or secrets.",
  enforcementLevel: "mandatory",
  resourceTypes: [...holders, ...types.ssmParameter, ...secretVersion],
  validateStack: (args, report) => {
    const known = [
      ...ofTypes(args.resources, types.ssmParameter)
        .filter((p) => p.props.type === "SecureString")
        .map((p) => p.props.value),
      ...ofTypes(args.resources, secretVersion).map((s) => s.props.secretString),
    ].filter((v): v is string => typeof v === "string");
    for (const r of ofTypes(args.resources, holders)) {
      const texts = [r.props.userData, r.props.userDataBase64]
        .filter((v): v is string => typeof v === "string" && v !== "")
        .flatMap((v) => userDataTexts(v));
      for (const finding of secretFindings(texts, known))
        report(`user-data holds ${finding}: put it in an SSM SecureString parameter and read it at boot`, r.urn);
    }
  },
};

export const secretPolicies: PackPolicy[] = [userDataNoSecrets];
