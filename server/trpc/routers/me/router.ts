import { router } from "../../init";
import { whoamiRoute } from "./whoami";

export const meRouter = router({ whoami: whoamiRoute });
