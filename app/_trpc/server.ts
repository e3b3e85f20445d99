// tRPC for server components: calls procedures in-process with the request's headers
// (so the same session, role checks and audit apply as over HTTP). One caller per request.
import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { appRouter } from "@/server/trpc/root";
import { createContext } from "@/server/trpc/init";

export const getServerCaller = cache(async () => {
  const ctx = await createContext({ headers: await headers() });
  return appRouter.createCaller(ctx);
});
