// What every command gets: where the store and trusted keys are, and a way to report progress.
import type { AgentEvent } from "../protocol";
import { StoreLayout } from "./store/layout";

export type ProgressEvent = Extract<AgentEvent, { event: "progress" }>;

export interface AgentContext {
  layout: StoreLayout;
  trustedDir: string;
  /** Progress reporting (serve sends it as events; the CLI ignores it). */
  progress(step: string, bytes: number, totalBytes: number | null): void;
}

export function createContext(
  store: string,
  trustedDir: string,
  progress?: AgentContext["progress"],
): AgentContext {
  return { layout: new StoreLayout(store), trustedDir, progress: progress ?? (() => undefined) };
}
