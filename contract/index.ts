// The contract the service and the stack share: settings, their environment variables, the host layout,
// how validators report a problem, and how a release file is hashed.
export * from "./defaults";
export * from "./digest";
export * from "./env";
export * from "./layout";
export * from "./problem";
export * from "./runtime";
export * from "./service";
