// What the primary, its workers and the supervisor (systemd) agree on: the IPC message that starts a
// graceful shutdown and the process exit codes. Both roles import it; neither loads the other's module.

/** Sent by the primary over IPC to start a graceful shutdown. */
export const SHUTDOWN_MESSAGE = "graceful-shutdown";

/** Exit code of a worker (and primary) whose shutdown hit the deadline with requests still open. */
export const EX_DEADLINE = 1;

/** Exit code when workers keep crashing: the supervisor (systemd) decides what next. */
export const EX_CRASH_LOOP = 70; // EX_SOFTWARE

/** Exit code of a bad configuration: one line on stderr names the variable. */
export const EX_CONFIG = 78; // EX_CONFIG of sysexits.h
