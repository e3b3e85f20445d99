import type { VerifyArgs, VerifyResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
export async function verify(_ctx: AgentContext, _args: VerifyArgs): Promise<VerifyResult> {
  throw new AgentError("NOT_SUPPORTED", "verify", "not implemented yet");
}
