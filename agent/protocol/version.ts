// Version numbers of the agent wire contract. Bump PROTOCOL_VERSION on any incompatible change to
// requests, responses, facts or the serve framing; bump MANIFEST_VERSION when the manifest changes.

/** Version of the request/response contract and the `serve` framing. Both sides send it. */
export const PROTOCOL_VERSION = 1;

/** Version of the release manifest schema (`manifestVersion` field). */
export const MANIFEST_VERSION = 1;
