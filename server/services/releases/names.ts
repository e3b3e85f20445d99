import { appNameProblem, versionProblem } from "@/agent/protocol";
import { AppError } from "@/server/errors";

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
