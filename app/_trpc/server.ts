// tRPC for server components: calls procedures in-process as the request's viewer (same role
// checks and audit as over HTTP, without the HTTP round trip). One caller per request.
import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { getViewer } from "@/server/auth/viewer";
import { clientIp } from "@/server/auth/request-guard";
import { db } from "@/server/db";
import { getEnv } from "@/server/env";
import { createContextInner } from "@/server/trpc/init";
import { createCaller } from "@/server/trpc/root";

export const getServerCaller = cache(async () => {
  const viewer = await getViewer();
  return createCaller(
    createContextInner({
      db,
      user: viewer?.user ?? null,
      session: viewer?.session ?? null,
      via: viewer?.via ?? null,
      tokenId: viewer?.tokenId ?? null,
      ip: clientIp(await headers(), getEnv().KEEL_TRUST_PROXY),
    }),
  );
});
