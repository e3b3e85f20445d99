// What this agent accepts on the wire beyond protocol 1's raw and keel-delta-1 (decision 0030). The
// agent lists them in its hello; the console uses one only when the agent it talks to lists it,
// so an older agent keeps getting the forms it knows and an older console keeps sending them.
export const WIRE_FEATURES = ["keel-z1", "keel-delta-1z", "json-z"] as const;
export type WireFeature = (typeof WIRE_FEATURES)[number];
