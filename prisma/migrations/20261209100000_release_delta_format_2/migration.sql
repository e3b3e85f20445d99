-- The format-2 delta (DIFF ops, docs/decisions/0040-approximate-matches-in-the-delta.md) stored beside
-- the format-1 one; sent as keel-delta-2 to agents whose hello lists it. Null on older rows.

-- AlterTable
ALTER TABLE "release_deltas" ADD COLUMN "encoded2_digest" TEXT,
ADD COLUMN "encoded2_bytes" BIGINT;

-- CreateIndex
CREATE INDEX "release_deltas_encoded2_digest_idx" ON "release_deltas"("encoded2_digest");
