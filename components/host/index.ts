// Host renderers: pure functions from a typed HostInput to the text of every file an instance gets.
export {
  HostInput, HostInputOptions, HostBase, HostBaseOptions, withHostDefaults, withHostBaseDefaults, checkHostInput, checkHostBase, hostPaths,
  ssmParameterNames,
} from "./input";
export { HostFile, HostInputError, renderHostFiles, renderEnvFile, renderLogrotateTimer } from "./files";
export { renderUnit } from "./renderUnit";
export { renderRsyslog, renderPapertrailAction, parseDestination, productionSite, RsyslogSite } from "./renderRsyslog";
export { renderLogrotate, productionLogrotateSite, LogrotateSite } from "./renderLogrotate";
export { renderDatadog, renderDatadogFor, serviceProgram, DatadogProgram, DatadogFile } from "./renderDatadog";
export { renderBootScript, renderHostBootScript, serviceBootProgram, BootProgram } from "./renderBootScript";
export { renderUserData, renderCloudConfig, userDataLimitBytes } from "./renderUserData";
