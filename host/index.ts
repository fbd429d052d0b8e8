// Host renderers: pure functions from a typed HostInput to the text of every file an instance gets.
export {
  HostInput,
  HostInputOptions,
  HostBase,
  HostBaseOptions,
  withHostDefaults,
  withHostBaseDefaults,
  checkHostInput,
  checkHostBase,
} from "./input";
export { HostFile, HostInputError, renderHostFiles, renderEnvFile, renderLogrotateTimer } from "./files";
export { renderUnit } from "./unit";
export { renderRsyslog, renderPapertrailAction, parseDestination, productionSite, RsyslogSite } from "./rsyslog";
export { renderLogrotate, productionLogrotateSite, LogrotateSite } from "./logrotate";
export { renderDatadog, renderDatadogFor, serviceProgram, DatadogProgram, DatadogFile } from "./datadog";
export { renderBootScript, renderHostBootScript, serviceBootProgram, BootProgram } from "./bootScript";
export {
  renderUserData,
  renderCloudConfig,
  compressUserData,
  encodeUserData,
  finalMessage,
  userDataLimitBytes,
} from "./userData";
