import { router } from "@/server/trpc/init";
import { whoamiRoute } from "./whoami";

export const meRouter = router({ whoami: whoamiRoute });
