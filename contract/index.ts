// The contract the service and the stack share: settings, their environment variables, the host layout.
export * from "./defaults";
export * from "./env";
export * from "./layout";
export * from "./service";
