// agent/protocol: the wire contract between the Keel console and keel-agent. Plain TypeScript with
// Node's standard library only (the agent ships without node_modules; the server imports this).
export * from "./version";
export * from "./names";
export * from "./canonical-json";
export * from "./check";
export * from "./keys";
export * from "./manifest";
export * from "./activation";
export * from "./errors";
export * from "./messages";
export * from "./framing";
export * from "./resident";
export * from "./requires";
