import { router } from "../../init";
import { sshKeyRoute } from "./ssh-key";

export const settingsRouter = router({ sshKey: sshKeyRoute });
