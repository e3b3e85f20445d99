// Streaming release uploads (push and build): server/services/releases/upload-handler.ts.
import { getAuth } from "@/server/auth/auth";
import { db } from "@/server/db";
import { trustedOrigins } from "@/server/env";
import { createReleaseUploadHandler } from "@/server/services/releases/upload-handler";

export const dynamic = "force-dynamic";

let handler: ((req: Request) => Promise<Response>) | undefined;
export function POST(req: Request): Promise<Response> {
  handler ??= createReleaseUploadHandler({ db, auth: getAuth(), trustedOrigins: trustedOrigins() });
  return handler(req);
}
