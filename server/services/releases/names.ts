// The one rule for app names and versions on the server: agent/protocol/names.ts judges them (no
// `..` or `/`, not the reserved `current`/`previous`, the patterns), the same as the agent does.
// Every schema and check in server/ takes them from here.
import { z } from "zod";
import { appNameProblem, versionProblem } from "@/agent/protocol";
import { AppError } from "@/server/errors";

const named = (problem: (v: unknown) => string | null) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });

export const ZAppName = named(appNameProblem);
export const ZVersion = named(versionProblem);

export function assertAppName(app: string): string {
  const p = appNameProblem(app);
  if (p) throw new AppError("BAD_REQUEST", { message: p });
  return app;
}

export function assertVersion(version: string): string {
  const p = versionProblem(version);
  if (p) throw new AppError("BAD_REQUEST", { message: p });
  return version;
}
