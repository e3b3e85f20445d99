// Every environment variable the console reads, validated once with zod. Read through getEnv():
// the parse happens on first use, so `npm start` can set DATABASE_URL and KEEL_SECRET (embedded
// PostgreSQL, generated secret) before anything reads them.
import { z } from "zod";

const ZPort = z.coerce.number().int().min(1).max(65535);

export const ZEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /**
   * PostgreSQL to use, as the console's own role: one that cannot change or delete audit rows
   * (docs/audit.md). `npm start` starts an embedded one and sets this when it is missing.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  /** The same database as the tables' owner: `npm start` runs the migrations with it, and nothing else. */
  DATABASE_OWNER_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  /** Secret that signs session cookies (≥ 32 characters); `npm start` generates one into the data dir. */
  KEEL_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  KEEL_DATA_DIR: z.string().min(1).default(".keel"),
  KEEL_HOST: z.string().min(1).default("127.0.0.1"),
  KEEL_PORT: ZPort.default(3000),
  /** The console's public origin (scheme://host:port) if it is not http://KEEL_HOST:KEEL_PORT (e.g. behind a proxy). */
  KEEL_URL: z.url().optional(),
  /** Further origins allowed to post to the API, comma separated. */
  KEEL_TRUSTED_ORIGINS: z.string().optional(),
  KEEL_ADMIN_EMAIL: z.email().default("admin@keel.local"),
  KEEL_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  /**
   * Further founders made with the first admin on the first start, "email:role+role,…" (e.g.
   * "ana@example.org:approver"): the people the two-person rule starts from
   * (docs/decisions/0015-two-person-rule.md). Passwords: KEEL_FOUNDERS_PASSWORD, or generated and shown once.
   */
  KEEL_FOUNDERS: z
    .string()
    .regex(
      /^\s*$|^[^:,\s]+@[^:,\s]+:[a-z+]+(\s*,\s*[^:,\s]+@[^:,\s]+:[a-z+]+)*$/,
      "must be email:role+role, separated by commas",
    )
    .optional(),
  KEEL_FOUNDERS_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  /** Next.js build directory (next.config.ts reads it too). */
  KEEL_NEXT_DIST_DIR: z.string().min(1).default(".next"),
  /**
   * How long a host's agent stays resident after a console session, waiting for the next one on a
   * root-only socket reached through SSH (no Node start-up per step; docs/agent.md). 0 turns it off.
   */
  KEEL_AGENT_RESIDENT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3600),
  /** Longest time between an audit event and the signed checkpoint that covers it (docs/audit.md). */
  KEEL_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /**
   * Also send each audit checkpoint to syslog with `logger -t keel-audit`: `local` (or 1/true) for
   * this machine's syslog, `udp://host:port` or `tcp://host:port` for a syslog server elsewhere.
   */
  KEEL_AUDIT_SYSLOG: z
    .string()
    .regex(
      /^(0|1|false|true|local|(udp|tcp):\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d{1,5})$/,
      "must be local, udp://host:port or tcp://host:port",
    )
    .optional(),
  /** Also POST each audit checkpoint (JSON) to this URL. */
  KEEL_AUDIT_WEBHOOK_URL: z.url().optional(),
  /**
   * Size in GiB of the sparse btrfs image `npm start` mounts as the build store (<data dir>/subvolumes)
   * when the data directory is not on btrfs and it runs as root; 0 turns that off.
   */
  KEEL_BUILD_STORE_GIB: z.coerce.number().int().min(0).max(65_536).default(20),
  /**
   * Sign-in with the organisation's identity provider (docs/auth.md): set for automated installs;
   * these take precedence over Settings. Role map: "group:role+role,group:role".
   */
  KEEL_OIDC_ISSUER: z.url().optional(),
  KEEL_OIDC_CLIENT_ID: z.string().min(1).optional(),
  KEEL_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  KEEL_OIDC_GROUP_CLAIM: z.string().min(1).default("groups"),
  KEEL_OIDC_ROLE_MAP: z.string().default(""),
  /** false: only the break-glass account (KEEL_OIDC_BREAK_GLASS, default KEEL_ADMIN_EMAIL) signs in with a password. */
  KEEL_OIDC_LOCAL_SIGN_IN: z.stringbool().default(true),
  KEEL_OIDC_BREAK_GLASS: z.email().optional(),
  /** Trust X-Forwarded-For for the client address (only behind a proxy you run). */
  KEEL_TRUST_PROXY: z.stringbool().default(false),
  /** Webhooks may post to private, loopback and link-local addresses (refused by default: SSRF; docs/notifications.md). */
  KEEL_WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
});

export type Env = z.infer<typeof ZEnv>;

export function parseEnv(source: Record<string, string | undefined>): Env {
  const r = ZEnv.safeParse(source);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment: ${lines.join("; ")}`);
  }
  return r.data;
}

let cached: Env | undefined;

export function getEnv(): Env {
  return (cached ??= parseEnv(process.env));
}

/** The origin browsers use to reach the console. */
export function publicOrigin(env: Env = getEnv()): string {
  if (env.KEEL_URL) return new URL(env.KEEL_URL).origin;
  const host = env.KEEL_HOST.includes(":") ? `[${env.KEEL_HOST}]` : env.KEEL_HOST;
  return `http://${host}:${env.KEEL_PORT}`;
}

/** Origins whose browsers may post to the API: the public origin, its localhost twin, and KEEL_TRUSTED_ORIGINS. */
export function trustedOrigins(env: Env = getEnv()): string[] {
  const origin = publicOrigin(env);
  const list = [origin];
  const u = new URL(origin);
  if (u.hostname === "127.0.0.1") list.push(origin.replace("127.0.0.1", "localhost"));
  if (u.hostname === "localhost") list.push(origin.replace("localhost", "127.0.0.1"));
  for (const o of (env.KEEL_TRUSTED_ORIGINS ?? "").split(","))
    if (o.trim()) list.push(new URL(o.trim()).origin);
  return list;
}
