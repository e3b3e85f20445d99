// Version numbers of the agent wire contract. Bump PROTOCOL_VERSION on any incompatible change to
// requests, responses, facts or the serve framing; bump MANIFEST_VERSION when the manifest changes.

/** Version of the request/response contract and the `serve` framing. Both sides send it. */
export const PROTOCOL_VERSION = 1;

/**
 * Version of the release manifest schema (`manifestVersion` field) that builders write. 2: the tree
 * digest covers extended attributes and `tree.metaSha256` (the digest without file contents) is
 * checked at every receive. Version 1 manifests are still accepted for trees without any extended
 * attribute (docs/decisions/0012-hostile-builder.md).
 */
export const MANIFEST_VERSION = 2;

/** Manifest versions the agent and the console accept. */
export const MANIFEST_VERSIONS = [1, 2] as const;
