// Store sections: apps/ and runtimes/ (decision 0023). Both follow the same rules; a command that
// acts on one installed release is told the section by `kind: "runtime"`, receive by the signed
// manifest's kind; facts, gc and recovery cover both.
import type { StoreSection } from "../../protocol";
import type { AgentContext } from "../context";
import type { StoreLayout } from "./layout";

export const SECTIONS: readonly StoreSection[] = ["apps", "runtimes"];

export function sectionContext(ctx: AgentContext, command: string, args: unknown): AgentContext {
  if (command === "receive" || command === "gc" || command === "build") return ctx;
  const kind = (args as { kind?: string } | null)?.kind;
  return kind === "runtime" ? { ...ctx, layout: ctx.layout.forKind(kind) } : ctx;
}

export function allSections(layout: StoreLayout): StoreLayout[] {
  return SECTIONS.map((s) => layout.inSection(s));
}
