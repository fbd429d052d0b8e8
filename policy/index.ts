// The policy pack, as the Pulumi CLI runs it: `pulumi preview --policy-pack policy` (PulumiPolicy.yaml here) starts
// this file through @pulumi/pulumi's run-policy-pack, and the PolicyPack serves the policies over gRPC. Nothing
// imports this file: the policies live in policy/pack/ and the tests call them there.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./pack";

new PolicyPack("node-service-aws", {
  description: "Production rules of the node-service-aws components, for any stack that uses them",
  enforcementLevel: "mandatory",
  policies,
});
