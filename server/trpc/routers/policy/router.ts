import { router } from "../../init";
import { getPolicyRoute } from "./get-policy";
import { approvePolicyRoute, proposePolicyRoute, rejectPolicyRoute } from "./propose-policy";
import { testPolicyRoute, validatePolicyRoute } from "./test-policy";

export const policyRouter = router({
  get: getPolicyRoute,
  validate: validatePolicyRoute,
  test: testPolicyRoute,
  propose: proposePolicyRoute,
  approve: approvePolicyRoute,
  reject: rejectPolicyRoute,
});
