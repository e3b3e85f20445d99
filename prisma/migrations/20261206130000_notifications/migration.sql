-- Outgoing notifications (docs/notifications.md, docs/decisions/0024-notification-outbox.md):
-- channels (webhooks, e-mail), the SMTP server, and the outbox of deliveries. A delivery row is
-- written in the same transaction as the audit event it reports, so a committed event always has
-- its deliveries and a rolled-back one has none; (channel, audit event) is unique, so it is never
-- queued twice. Workers claim due rows with FOR UPDATE SKIP LOCKED under a lease.

CREATE TABLE "notification_channels" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('webhook', 'email')),
    "url" TEXT,
    "encrypted_secret" BYTEA,
    "email_to" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "email_roles" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "events" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_id" TEXT,
    CONSTRAINT "notification_channels_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "notification_channels_name_key" ON "notification_channels"("name");

CREATE TABLE "notification_smtp" (
    "id" INTEGER NOT NULL DEFAULT 1 CHECK ("id" = 1),
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "tls" TEXT NOT NULL CHECK ("tls" IN ('none', 'starttls', 'tls')),
    "username" TEXT,
    "encrypted_password" BYTEA,
    "from_address" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notification_smtp_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "notification_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "channel_id" UUID,
    "channel_name" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "audit_event_id" BIGINT NOT NULL,
    "payload" JSONB NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending' CHECK ("state" IN ('pending', 'delivering', 'delivered', 'failed')),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_by" TEXT,
    "locked_until" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "response_code" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    CONSTRAINT "notification_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notification_deliveries_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "notification_deliveries_channel_id_audit_event_id_key" ON "notification_deliveries"("channel_id", "audit_event_id");
CREATE INDEX "notification_deliveries_state_next_attempt_at_idx" ON "notification_deliveries"("state", "next_attempt_at");
CREATE INDEX "notification_deliveries_created_at_idx" ON "notification_deliveries"("created_at");
