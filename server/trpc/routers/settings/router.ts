import { router } from "@/server/trpc/init";
import { sshKeyRoute } from "./ssh-key";

export const settingsRouter = router({ sshKey: sshKeyRoute });
