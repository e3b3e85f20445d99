// The activation part of a build (decision 0022): onActivate and exports as the CLI flags and the
// build form give them, checked with the agent's own validators before anything is built, and turned
// into the agent's `build` flags.
import { ProtocolInputError, validateActivation, type Activation } from "@/agent/protocol";
import { AppError } from "@/server/errors";

export function parseActivation(v: unknown): Activation | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    const a = validateActivation(v, "activation");
    return a.onActivate || a.exports?.length ? a : undefined;
  } catch (e) {
    if (e instanceof ProtocolInputError) throw new AppError("BAD_REQUEST", { message: e.message });
    throw e;
  }
}

export function activationArgs(a: Activation | undefined): string[] {
  const out: string[] = [];
  if (a?.onActivate) out.push("--on-activate", JSON.stringify(a.onActivate));
  if (a?.exports?.length) out.push("--export", JSON.stringify(a.exports));
  return out;
}

/** The `activation` query parameter of a build upload (JSON), or the CLI's --on-activate/--export. */
export function parseActivationParam(v: string | null | undefined): unknown {
  if (!v) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch (e) {
    throw new AppError("BAD_REQUEST", { message: `activation must be JSON: ${(e as Error).message}` });
  }
}
