import { router } from "@/server/trpc/init";
import {
  approveChangeRoute,
  cancelChangeRoute,
  listChangesRoute,
  rejectChangeRoute,
} from "./change-requests";
import { getPolicyRoute, getPolicyVersionRoute } from "./get-policy";
import { approvePolicyRoute, proposePolicyRoute, rejectPolicyRoute } from "./propose-policy";
import { testPolicyRoute, validatePolicyRoute } from "./test-policy";

export const policyRouter = router({
  get: getPolicyRoute,
  version: getPolicyVersionRoute,
  validate: validatePolicyRoute,
  test: testPolicyRoute,
  propose: proposePolicyRoute,
  approve: approvePolicyRoute,
  reject: rejectPolicyRoute,
  changes: listChangesRoute,
  approveChange: approveChangeRoute,
  rejectChange: rejectChangeRoute,
  cancelChange: cancelChangeRoute,
});
