// A pool of SSH connections: one connection per host, shared by all commands of an operation
// (channels on it are capped by SshConnection), a cap on connections in total, and idle
// connections closed after a while. A connection that dies leaves the pool; the next use reconnects.
import { connect } from "./connect";
import { type SshConnection, type SshEvent } from "./connection";
import { type ExecOptions, type ExecResult } from "./exec";
import { SshError } from "./errors";
import { Semaphore } from "./semaphore";
import { resolveLimits, validateTarget, type SshLimits, type SshTarget } from "./target";

export interface PoolOptions {
  /** Connections open at once across all hosts (default 256). */
  maxConnections?: number;
  /** Close a connection nobody has used for this long (default 30 s). */
  idleTimeoutMs?: number;
  limits?: Partial<SshLimits>;
  onEvent?: (e: SshEvent) => void;
}

interface Entry {
  key: string;
  refs: number;
  conn: SshConnection | null;
  connecting: Promise<SshConnection> | null;
  idleTimer: NodeJS.Timeout | null;
}

export interface Lease {
  conn: SshConnection;
  release(): void;
}

function keyOf(t: SshTarget): string {
  return `${t.user}@${t.address}:${t.port}#${t.pinnedFingerprint}`;
}

export class SshPool {
  readonly limits: SshLimits;
  private readonly entries = new Map<string, Entry>();
  private readonly total: Semaphore;
  private readonly idleTimeoutMs: number;
  private readonly onEvent: ((e: SshEvent) => void) | undefined;
  private closing = false;

  constructor(opts: PoolOptions = {}) {
    this.limits = resolveLimits(opts.limits);
    this.total = new Semaphore(opts.maxConnections ?? 256);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.onEvent = opts.onEvent;
  }

  /** Connections currently open or being opened. */
  get size(): number {
    return this.total.inUse;
  }
  get connectionHighWater(): number {
    return this.total.highWater;
  }

  /**
   * A connection to a pinned host, shared with other users of the same host. Release it when done.
   * Hosts without a pinned key cannot be pooled: enrollment connects directly with acceptFingerprint.
   */
  async acquire(target: SshTarget): Promise<Lease> {
    if (this.closing)
      throw new SshError("POOL_CLOSED", "The SSH pool is shutting down.", {
        host: target.name,
        step: "connect",
      });
    validateTarget(target);
    if (target.pinnedFingerprint === null) {
      throw new SshError(
        "HOST_KEY_UNKNOWN",
        `${target.name} has no pinned host key. Enroll it first (fetch its fingerprint and accept it).`,
        { host: target.name, step: "verify-host-key" },
      );
    }
    const key = keyOf(target);
    let e = this.entries.get(key);
    // A connection the idle timer (or a failure) has begun to close is not reused: end() takes up to
    // a second, and a command started on it meanwhile would fail with "closed by the console".
    if (!e || (e.conn && e.conn.isClosing)) {
      e = { key, refs: 0, conn: null, connecting: null, idleTimer: null };
      this.entries.set(key, e);
      e.connecting = this.open(e, target);
    }
    e.refs++;
    if (e.idleTimer) {
      clearTimeout(e.idleTimer);
      e.idleTimer = null;
    }
    const entry = e;
    let conn: SshConnection;
    try {
      conn = entry.conn ?? (await entry.connecting!);
    } catch (err) {
      entry.refs--;
      throw err;
    }
    let released = false;
    return {
      conn,
      release: () => {
        if (released) return;
        released = true;
        this.unref(entry);
      },
    };
  }

  async withConnection<T>(target: SshTarget, fn: (conn: SshConnection) => Promise<T>): Promise<T> {
    const lease = await this.acquire(target);
    try {
      return await fn(lease.conn);
    } finally {
      lease.release();
    }
  }

  exec(target: SshTarget, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.withConnection(target, (c) => c.exec(argv, opts));
  }

  run(target: SshTarget, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.withConnection(target, (c) => c.run(argv, opts));
  }

  /** Close the connections nobody is using right now (the pool stays usable; e.g. for cold-start measurements). */
  async closeIdle(): Promise<void> {
    const idle = [...this.entries.values()].filter((e) => e.refs === 0 && e.conn && !e.conn.isClosed);
    await Promise.all(idle.map((e) => e.conn!.close()));
  }

  /** Close every connection (in-flight commands fail with CONNECTION_LOST). */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map(async (e) => {
        if (e.idleTimer) clearTimeout(e.idleTimer);
        const c = e.conn ?? (await e.connecting?.catch(() => null));
        await c?.close();
      }),
    );
  }

  private async open(e: Entry, target: SshTarget): Promise<SshConnection> {
    if (!this.total.tryAcquire()) {
      this.evictIdle();
      await this.total.acquire();
    }
    let conn: SshConnection;
    try {
      conn = await connect(target, { limits: this.limits, onEvent: this.onEvent });
    } catch (err) {
      this.total.release();
      if (this.entries.get(e.key) === e) this.entries.delete(e.key);
      throw err;
    }
    e.conn = conn;
    e.connecting = null;
    void conn.closed.then(() => {
      this.total.release();
      if (e.idleTimer) clearTimeout(e.idleTimer);
      if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    });
    if (this.closing) void conn.close();
    return conn;
  }

  private unref(e: Entry): void {
    e.refs--;
    if (e.refs > 0 || !e.conn) return;
    if (this.total.waiting > 0) {
      // Someone waits for a connection slot: give this one up now instead of idling.
      void e.conn.close();
      return;
    }
    e.idleTimer = setTimeout(() => {
      if (e.refs === 0) void e.conn?.close();
    }, this.idleTimeoutMs);
    e.idleTimer.unref();
  }

  private evictIdle(): void {
    for (const e of this.entries.values()) {
      if (e.refs === 0 && e.conn && !e.conn.isClosed) {
        void e.conn.close();
        return;
      }
    }
  }
}
