import { router } from "@/server/trpc/init";
import { deleteGroupRoute } from "./delete-group";
import { listGroupsRoute } from "./list-groups";
import { saveGroupRoute } from "./save-group";
import { setMembersRoute } from "./set-members";

export const groupsRouter = router({
  list: listGroupsRoute,
  save: saveGroupRoute,
  delete: deleteGroupRoute,
  setMembers: setMembersRoute,
});
