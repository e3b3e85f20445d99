-- Two people means two people (docs/decisions/0015-two-person-rule.md): every role a user holds
-- has a grant row saying who granted it and who approved the grant, so that an approval can be
-- traced to the people it rests on. And admin actions the policy says need approval wait as a
-- change request, bound to the digest of the exact change, until other people approve it.

CREATE TABLE "role_grants" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    -- NULL only for founders (accounts made where Keel is installed) and for grants that existed
    -- before this migration (legacy): they rest on no one else's account.
    "granted_by_id" TEXT,
    "approved_by_ids" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    -- founder | legacy | direct | change
    "via" TEXT NOT NULL,
    "change_request_id" UUID,
    "granted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by_id" TEXT,
    CONSTRAINT "role_grants_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "role_grants_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "role_grants_user_id_idx" ON "role_grants"("user_id");
-- One grant in force per user and role.
CREATE UNIQUE INDEX "role_grants_active_key" ON "role_grants"("user_id", "role") WHERE "revoked_at" IS NULL;

-- The roles users hold today become legacy grants: their history is not known, so they rest on
-- no one (the decision says to review the user list after upgrading).
INSERT INTO "role_grants" ("user_id", "role", "via", "granted_at")
SELECT u."id", r.role, 'legacy', u."created_at" FROM "users" u CROSS JOIN LATERAL unnest(u."roles") AS r(role);

CREATE TABLE "change_requests" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "number" SERIAL NOT NULL,
    -- the operation, e.g. users.create, hosts.setEnvironment
    "kind" TEXT NOT NULL,
    -- the policy action it is, e.g. manage_users, set_environment
    "action" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "summary" TEXT NOT NULL,
    -- SHA-256 of the canonical JSON of { kind, input }: what approvers approve
    "digest" TEXT NOT NULL,
    "decision" JSONB NOT NULL,
    "required_approvals" INTEGER NOT NULL,
    "approver_role" TEXT NOT NULL,
    -- pending | applying | applied | rejected | failed | cancelled
    "state" TEXT NOT NULL DEFAULT 'pending',
    "result" JSONB,
    "error" TEXT,
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "change_requests_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "change_requests_number_key" ON "change_requests"("number");
CREATE INDEX "change_requests_state_created_at_idx" ON "change_requests"("state", "created_at");
