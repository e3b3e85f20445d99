import type { ReceiveArgs, ReceiveResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
import type { StreamInput } from "../input";
export async function receive(_ctx: AgentContext, _args: ReceiveArgs, _input: StreamInput): Promise<ReceiveResult> {
  throw new AgentError("NOT_SUPPORTED", "receive", "not implemented yet");
}
