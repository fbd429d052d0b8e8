// The entry other stacks import: `node-service-aws/components/service`.
export * from "./settings";
