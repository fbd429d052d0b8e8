// Ordering on the first `pulumi up` of the ALB flavor, read from the resource options the program gives:
// the internet-facing load balancer waits for the internet gateway route, the Auto Scaling group and its
// request-count policy wait for the listener, and the group (which launches the instances) waits for the
// NAT routes. The same ordering AWS CDK builds in:
//   aws-cdk-lib aws-elasticloadbalancingv2 base-load-balancer.ts:
//     `if (internetFacing) resource.node.addDependency(internetConnectivityEstablished)`
//   aws-cdk-lib aws-ecs base-service.ts: `this.resource.node.addDependency(targetGroup.loadBalancerAttached)`
//     (and aws-autoscaling scaleOnRequestCount: the policy depends on `albTargetGroup.loadBalancerAttached`)
//   aws-cdk-lib aws-lambda function.ts: `this.node.addDependency(selectedSubnets.internetConnectivityEstablished)`
//     for compute placed in private subnets, whose internet connectivity is the NAT route.
import { afterAll, describe, expect, it } from "vitest";
import { runProgram, setupMocks } from "../test/support/pulumi-mocks";
import { explicitDependencies } from "../test/support/dependencies";
import { createStack } from "./stack";
import { stackFileConfig, tempBundle } from "../test/support/stack-config";

const bundle = tempBundle("console.log('ordering')\n");
afterAll(() => bundle.dispose());

describe.each([
  ["dev", 2, 1, false],
  ["prod", 3, 3, true],
] as const)("stack %s (ALB flavor)", (stack, azs, nats, https) => {
  it("creates the load balancer after the internet route, and the group and its scaling policy after the listener and the NAT routes", async () => {
    const { config, secretKeys } = stackFileConfig(stack, { loadBalancer: "alb" });
    await setupMocks({ config, secretKeys, stack });
    const { options } = await runProgram(() => ({ ...createStack({ bundlePath: bundle.file }) }));
    const range = (n: number) => [...Array(n).keys()];

    const internet = [
      "aws:ec2/internetGateway:InternetGateway::sample-api-igw",
      "aws:ec2/routeTable:RouteTable::sample-api-public",
      ...range(azs).map((i) => `aws:ec2/routeTableAssociation:RouteTableAssociation::sample-api-public-${i}`),
    ];
    const lb = await explicitDependencies(options.get("aws:lb/loadBalancer:LoadBalancer::sample-api"));
    for (const d of [...internet, "aws:s3/bucketPolicy:BucketPolicy::sample-api-logs"]) expect(lb).toContain(d);

    const listeners = (https ? ["sample-api-http", "sample-api-https"] : ["sample-api-http"]).map(
      (n) => `aws:lb/listener:Listener::${n}`,
    );
    const egress = [
      ...range(nats).map((i) => `aws:ec2/natGateway:NatGateway::sample-api-nat-${i}`),
      ...range(azs).flatMap((i) => [
        `aws:ec2/routeTable:RouteTable::sample-api-private-${i}`,
        `aws:ec2/routeTableAssociation:RouteTableAssociation::sample-api-private-${i}`,
      ]),
    ];
    const asg = await explicitDependencies(options.get("aws:autoscaling/group:Group::sample-api-asg"));
    for (const d of [...listeners, ...egress]) expect(asg).toContain(d);
    const policy = await explicitDependencies(options.get("aws:autoscaling/policy:Policy::sample-api-requests"));
    for (const d of listeners) expect(policy).toContain(d);
  });
});
