// The local fleet: N simulated hosts behind the real HAProxy, used by local/cli.ts, local/demo.ts,
// the tests and bench/. One concern per file:
//   state.ts         options, state.json, each host's layout (contract/layout.ts under its root)
//   lifecycle.ts     up (the hosts' boot, HAProxy) and down
//   deploy.ts        first install, rolling deploys and rollbacks through each host's deploy script
//   haproxyAdmin.ts  HAProxy's config, admin socket, health states and reload
export {
  FleetError,
  FleetOptions,
  FleetState,
  HostState,
  findHaproxy,
  hostLayout,
  localCheckDefaults,
  localServiceDefaults,
  readState,
  releaseId,
  withFleetDefaults,
} from "./state";
export { down, up } from "./lifecycle";
export {
  DeployOptions,
  DeployResult,
  HostDeploy,
  RolloutOptions,
  RolloutResult,
  currentRelease,
  deploy,
  installFirstRelease,
  previousRelease,
  rollback,
  runningRelease,
  superviseHost,
} from "./deploy";
export {
  ServerStatus,
  haproxyCommand,
  healthLog,
  reloadHaproxy,
  renderFleetHaproxy,
  serverStatuses,
  waitAllUp,
} from "./haproxyAdmin";
