-- Sign-in with the organisation's identity provider (docs/auth.md, decision 0020): the provider's
-- settings (client secret sealed like signing keys), the link from a Keel account to the provider's
-- (issuer, subject), and sign-ins under way (state, nonce, PKCE verifier).

CREATE TABLE "oidc_config" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "issuer" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "client_secret_sealed" BYTEA,
    "group_claim" TEXT NOT NULL DEFAULT 'groups',
    "role_map" JSONB NOT NULL DEFAULT '[]',
    "local_sign_in" BOOLEAN NOT NULL DEFAULT true,
    "break_glass_email" TEXT,
    "updated_by_id" TEXT,
    "approved_by_ids" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "oidc_config_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oidc_config_one_row" CHECK ("id" = 1)
);

CREATE TABLE "oidc_links" (
    "user_id" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "refresh_token_sealed" BYTEA,
    "groups" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "state" TEXT NOT NULL DEFAULT 'active',
    "confirmed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "oidc_links_pkey" PRIMARY KEY ("user_id"),
    CONSTRAINT "oidc_links_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "oidc_links_issuer_subject_key" ON "oidc_links"("issuer", "subject");

CREATE TABLE "oidc_logins" (
    "state" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "next" TEXT NOT NULL DEFAULT '/',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "oidc_logins_pkey" PRIMARY KEY ("state")
);
