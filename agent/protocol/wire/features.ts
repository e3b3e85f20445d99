// What this agent accepts on the wire beyond protocol 1's raw and keel-delta-1 (decision 0030). The
// agent lists them in its hello; the console uses one only when the agent it talks to lists it,
// so an older agent keeps getting the forms it knows and an older console keeps sending them.
// keel-delta-2: a format-2 delta (DIFF ops, decision 0040) with its header compressed as keel-delta-1z's.
// json-d1: JSON frames deflated against a preset dictionary (wire/json-d.ts); keel-delta-c: a
// format-2 delta with a compact header (wire/delta-compact.ts); both decision 0044.
export const WIRE_FEATURES = [
  "keel-z1",
  "keel-delta-1z",
  "json-z",
  "keel-delta-2",
  "json-d1",
  "keel-delta-c",
] as const;
export type WireFeature = (typeof WIRE_FEATURES)[number];
