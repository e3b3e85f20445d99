import type { BuildArgs, BuildResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
export async function build(_ctx: AgentContext, _args: BuildArgs): Promise<BuildResult> {
  throw new AgentError("NOT_SUPPORTED", "build", "not implemented yet");
}
