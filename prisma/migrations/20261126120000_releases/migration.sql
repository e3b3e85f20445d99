-- Releases: signing keys, releases, cached incremental streams, artifact store bookkeeping.
-- Written by hand to match prisma/schema/releases.prisma exactly (what `prisma migrate diff` emits).

-- CreateEnum
CREATE TYPE "SigningKeyStatus" AS ENUM ('active', 'retired', 'removed');

-- CreateTable
CREATE TABLE "signing_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "key_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "encrypted_private_key" BYTEA,
    "status" "SigningKeyStatus" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_id" TEXT,
    "retired_at" TIMESTAMPTZ(3),
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "releases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "manifest" TEXT NOT NULL,
    "signer_key_id" TEXT NOT NULL,
    "stream_digest" TEXT NOT NULL,
    "stream_bytes" BIGINT NOT NULL,
    "tree_files" INTEGER NOT NULL,
    "tree_bytes" BIGINT NOT NULL,
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "added_by_id" TEXT,
    "subvolume" TEXT,

    CONSTRAINT "releases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "release_deltas" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "release_id" UUID NOT NULL,
    "parent_id" UUID NOT NULL,
    "manifest" TEXT NOT NULL,
    "signer_key_id" TEXT NOT NULL,
    "stream_digest" TEXT NOT NULL,
    "stream_bytes" BIGINT NOT NULL,
    "encoded_digest" TEXT,
    "encoded_bytes" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "release_deltas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifacts" (
    "digest" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifacts_pkey" PRIMARY KEY ("digest")
);

-- CreateIndex
CREATE UNIQUE INDEX "signing_keys_key_id_key" ON "signing_keys"("key_id");

-- CreateIndex
CREATE INDEX "releases_stream_digest_idx" ON "releases"("stream_digest");

-- CreateIndex
CREATE UNIQUE INDEX "releases_app_version_key" ON "releases"("app", "version");

-- CreateIndex
CREATE INDEX "release_deltas_release_id_idx" ON "release_deltas"("release_id");

-- CreateIndex
CREATE INDEX "release_deltas_stream_digest_idx" ON "release_deltas"("stream_digest");

-- CreateIndex
CREATE INDEX "release_deltas_encoded_digest_idx" ON "release_deltas"("encoded_digest");

-- CreateIndex
CREATE UNIQUE INDEX "release_deltas_parent_id_release_id_key" ON "release_deltas"("parent_id", "release_id");

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_signer_key_id_fkey" FOREIGN KEY ("signer_key_id") REFERENCES "signing_keys"("key_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_deltas" ADD CONSTRAINT "release_deltas_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_deltas" ADD CONSTRAINT "release_deltas_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "releases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "release_deltas" ADD CONSTRAINT "release_deltas_signer_key_id_fkey" FOREIGN KEY ("signer_key_id") REFERENCES "signing_keys"("key_id") ON DELETE RESTRICT ON UPDATE CASCADE;
