// Host renderers: pure functions from a typed HostInput to the text of every file an instance gets.
export { HostInput, HostInputOptions, withHostDefaults, checkHostInput, hostPaths, ssmParameterNames } from "./input";
export { HostFile, HostInputError, renderHostFiles, renderEnvFile } from "./files";
export { renderUnit } from "./renderUnit";
export { renderRsyslog, renderPapertrailAction, parseDestination, productionSite, RsyslogSite } from "./renderRsyslog";
export { renderLogrotate, productionLogrotateSite, LogrotateSite } from "./renderLogrotate";
export { renderDatadog } from "./renderDatadog";
export { renderBootScript } from "./renderBootScript";
export { renderUserData, userDataLimitBytes } from "./renderUserData";
