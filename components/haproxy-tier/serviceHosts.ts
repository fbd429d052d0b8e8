// The service hosts behind HAProxy: a fixed set of instances, known at deploy time, tagged with the fleet
// tag the SSM rollout targets.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TierHostArgs, tierHost } from "./hosts";

export interface ServiceHostsArgs extends TierHostArgs {
  count: number;
  /** Indexes of the hosts whose image follows amiId on this update; the others keep theirs. */
  imageRolloutHosts: number[];
  tags: Record<string, string>;
  /** Value of the `Fleet` tag (and prefix of the Name tag): what the rollout association targets. */
  fleetTag: string;
}

/** `count` service hosts named `<name>-fleet-<i>`. */
export function serviceHosts(name: string, a: ServiceHostsArgs, parent: pulumi.Resource): aws.ec2.Instance[] {
  return Array.from({ length: a.count }, (_, i) =>
    tierHost(
      `${name}-fleet-${i}`,
      i,
      { ...a, gzipUserData: true },
      { tags: { ...a.tags, Name: `${a.fleetTag}-${i}`, Fleet: a.fleetTag } },
      // The user-data names the release of the first boot; later releases arrive through the SSM
      // association, so a new bundle must not stop and start every instance at once. The image likewise: a
      // floating lookup must not replace the whole fleet in one update; a host takes a new image only while
      // it is listed in imageRolloutHosts (a replace: the new host joins the record, the old one goes at the end).
      {
        parent,
        ignoreChanges: a.imageRolloutHosts.includes(i)
          ? ["userData", "userDataBase64"]
          : ["ami", "userData", "userDataBase64"],
      },
    ),
  );
}
