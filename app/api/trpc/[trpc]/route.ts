// tRPC over HTTP (server/trpc/http-handler.ts does the checks). Built on first request so that
// `next build` needs no database or secret.
import { createTRPCHandler } from "@/server/trpc/http-handler";
import { lazyHandler } from "@/app/api/_lazy-handler";

export const dynamic = "force-dynamic";

const handle = lazyHandler(createTRPCHandler);

export { handle as GET, handle as POST };
