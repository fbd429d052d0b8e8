// The service image of the docker target: a Dockerfile on the official Node image at the exact version production
// runs (contract/runtime.ts), with the bundle, a system user named after the service (as on a host), SIGTERM as the
// stop signal and a health check on /readyz. Pure: typed input in, Dockerfile text out; the stack builds it inline
// (no file on disk), so nothing but this text and the bundle goes into the image.
import { formatProblem } from "../../contract/problem";
import { nodeRuntime } from "../../contract/runtime";
import { ServiceSettings, checkServiceSettings, stopTimeoutSec } from "../../contract/service";

/**
 * The official Node image at the production version, Debian 12 (the fleet's OS) in its slim variant. Pinned by tag,
 * not digest: no registry could be reached where this was written to read the digest of 26.12.1-bookworm-slim; pin it
 * with `docker buildx imagetools inspect node:26.12.1-bookworm-slim` (the index digest) once on a machine that can.
 */
export const nodeBaseImage = `node:${nodeRuntime.version}-bookworm-slim`;

/** Where the bundle lives in the image (the host layout's `current` release, flattened). */
export const imageAppDir = "/opt/app";

/** uid and gid of the service's system user in the image: a fixed number, so `docker run --user` and audits can name it. */
export const serviceUid = 10001;

export interface DockerHealthCheck {
  intervalSec: number;
  timeoutSec: number;
  retries: number;
  /** Failures in this window do not count: the service's start. */
  startPeriodSec: number;
  /** Check interval inside the start period (Docker Engine 25+; older engines ignore it). */
  startIntervalSec: number;
  /** Exec form: no shell in between, the check's exit code is node's. */
  test: string[];
}

/** A `node -e` check (the slim image has no curl): exit 0 only on 200 from /readyz within the timeout. */
function readyzCheck(port: number, timeoutMs: number): string[] {
  return [
    "node",
    "-e",
    `fetch('http://127.0.0.1:${port}/readyz',{signal:AbortSignal.timeout(${timeoutMs})})` +
      `.then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))`,
  ];
}

/**
 * The container health check on /readyz. It only gates `pulumi up` (the containers' `wait`) and `docker ps`: HAProxy
 * runs its own, faster /readyz checks to route and drain. Docker's check spawns a node process, so it polls every 5 s
 * once started and every second while starting, so a new container is healthy within about a second of being ready.
 */
export function serviceHealthCheck(service: ServiceSettings): DockerHealthCheck {
  const timeoutSec = 2;
  return {
    intervalSec: 5,
    timeoutSec,
    retries: 3,
    startPeriodSec: 60,
    startIntervalSec: 1,
    test: readyzCheck(service.port, timeoutSec * 1000 - 500),
  };
}

/** Seconds Docker waits after SIGTERM before SIGKILL (`docker stop`, the containers' stopTimeout): systemd's value. */
export function containerStopTimeoutSec(service: ServiceSettings): number {
  return stopTimeoutSec(service);
}

export interface DockerfileInput {
  service: ServiceSettings;
  /** File name of the bundle in the build context (its folder). */
  bundleFile: string;
  /** Base image; default nodeBaseImage. */
  baseImage?: string;
}

export class DockerfileInputError extends Error {}

export function checkDockerfileInput(i: DockerfileInput): string[] {
  const problems = checkServiceSettings(i.service).map(formatProblem);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(i.bundleFile))
    problems.push(`bundleFile: "${i.bundleFile}" must be a plain file name (letters, digits, . _ -)`);
  const base = i.baseImage ?? nodeBaseImage;
  if (!/^[a-z0-9./_-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.test(base))
    problems.push(`baseImage: "${base}" is not an image reference like ${nodeBaseImage}`);
  return problems;
}

const seconds = (n: number) => `${n}s`;

export function renderDockerfile(i: DockerfileInput): string {
  const problems = checkDockerfileInput(i);
  if (problems.length) throw new DockerfileInputError(`invalid Dockerfile input:\n  ${problems.join("\n  ")}`);
  const s = i.service;
  const h = serviceHealthCheck(s);
  return `# Service image of ${s.name}: rendered by host/docker/dockerfile.ts, built by the stack (target docker).
# No secret here or in the image's environment: the service reads none on this target.
FROM ${i.baseImage ?? nodeBaseImage}

# A system user named after the service, as on a host; it owns nothing in the image, so it cannot change its code.
RUN groupadd --system --gid ${serviceUid} ${s.name} \\
 && useradd --system --uid ${serviceUid} --gid ${serviceUid} --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${s.name}

ENV NODE_ENV=production
WORKDIR ${imageAppDir}
COPY ${i.bundleFile} ${imageAppDir}/server.js

USER ${serviceUid}:${serviceUid}
EXPOSE ${s.port}
# The service drains on SIGTERM (readiness fails, then in-flight requests finish) within shutdownTimeoutMs;
# the containers' stop timeout (${containerStopTimeoutSec(s)} s) outlives that deadline.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=${seconds(h.intervalSec)} --timeout=${seconds(h.timeoutSec)} --start-period=${seconds(h.startPeriodSec)} --start-interval=${seconds(h.startIntervalSec)} --retries=${h.retries} \\
  CMD ${JSON.stringify(h.test)}
CMD ["node", "${imageAppDir}/server.js"]
`;
}
