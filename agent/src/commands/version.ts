// `version`: the agent's version, protocol version and the SHA-256 of its own bundle.
import { PROTOCOL_VERSION, type VersionResult } from "../../protocol";
import { AGENT_VERSION, agentSha256 } from "../version";

export function version(): VersionResult {
  return {
    agentVersion: AGENT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    sha256: agentSha256(),
    node: process.version,
  };
}
