// Sign-in throttling that slows an attacker without locking the owner out
// (docs/decisions/0001-auth.md, "Sign-in throttling"). Failures are counted per client address
// and per account; past a few free failures each further one doubles that key's wait (1 s, 2 s,
// 4 s … up to 15 minutes). An address gets 20 free failures (across accounts) and is forgotten an
// hour after its last failure; an account gets 5 and is forgotten a day after its last one.
//  - A failing address waits out its own backoff, whatever account it tries.
//  - An account in backoff makes the addresses that have been failing against it wait, but an
//    address with fewer than 3 failures against that account may still try: the owner at their
//    usual machine gets in while someone else is guessing their password. A distributed guesser
//    gains 2 tries per address and account a day.
//  - A successful sign-in forgets only its own address's failures against that account (signing
//    in to one's own account does not reset a backoff earned guessing others); an admin can
//    forget an account's failures (users.unlock, `keel users unlock`).
// Counters are in memory, one set per console process (a shared instance for every route of
// the process, so that the unlock procedure reaches the sign-in route's counters).
export type BackoffRule = { free: number; baseMs: number; maxMs: number; forgetMs: number };

export const DEFAULT_THROTTLE = {
  // Many users may share an address (an office's NAT): more free failures, forgotten after an hour.
  ip: { free: 20, baseMs: 1000, maxMs: 15 * 60_000, forgetMs: 3_600_000 },
  account: { free: 5, baseMs: 1000, maxMs: 15 * 60_000, forgetMs: 86_400_000 },
  /** An address with fewer failures than this against an account is not stopped by that account's backoff. */
  cleanBelow: 3,
} satisfies { ip: BackoffRule; account: BackoffRule; cleanBelow: number };

type Entry = { failures: number; last: number; until: number };

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly rule: BackoffRule,
    private readonly now: () => number = Date.now,
  ) {}

  private get(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.now() - e.last > this.rule.forgetMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  failures(key: string): number {
    return this.get(key)?.failures ?? 0;
  }

  /** Milliseconds until the key may try again (0: now). */
  waitMs(key: string): number {
    const e = this.get(key);
    return e ? Math.max(0, e.until - this.now()) : 0;
  }

  fail(key: string): void {
    const t = this.now();
    const e = this.get(key) ?? { failures: 0, last: t, until: 0 };
    e.failures += 1;
    e.last = t;
    const over = e.failures - this.rule.free;
    if (over > 0) e.until = t + Math.min(this.rule.maxMs, this.rule.baseMs * 2 ** Math.min(over - 1, 30));
    this.entries.set(key, e);
    if (this.entries.size > 50_000) this.sweep(t);
  }

  clear(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Forgets every key for which `match` holds; true when there was any. */
  clearWhere(match: (key: string) => boolean): boolean {
    let any = false;
    for (const k of [...this.entries.keys()]) if (match(k)) any = this.entries.delete(k) || any;
    return any;
  }

  private sweep(t: number): void {
    for (const [k, e] of this.entries) if (t - e.last > this.rule.forgetMs) this.entries.delete(k);
  }
}

export type ThrottleConfig = typeof DEFAULT_THROTTLE;

const pair = (ip: string, account: string) => `${account}\n${ip}`;

export class SignInThrottle {
  readonly byIp: Backoff;
  readonly byAccount: Backoff;
  /** Failures of one address against one account: who counts as "failing" for that account. */
  readonly byPair: Backoff;
  constructor(
    private readonly config: ThrottleConfig = DEFAULT_THROTTLE,
    now: () => number = Date.now,
  ) {
    this.byIp = new Backoff(config.ip, now);
    this.byAccount = new Backoff(config.account, now);
    this.byPair = new Backoff({ ...config.account, free: Number.MAX_SAFE_INTEGER }, now);
  }

  /** Milliseconds this address must wait before trying this account, 0 when it may try now. */
  waitMs(ip: string, account: string): number {
    const ipWait = this.byIp.waitMs(ip);
    if (ipWait > 0) return ipWait;
    if (!account) return 0;
    const accountWait = this.byAccount.waitMs(account);
    return accountWait > 0 && this.byPair.failures(pair(ip, account)) >= this.config.cleanBelow
      ? accountWait
      : 0;
  }

  failed(ip: string, account: string): void {
    this.byIp.fail(ip);
    if (!account) return;
    this.byAccount.fail(account);
    this.byPair.fail(pair(ip, account));
  }

  succeeded(ip: string, account: string): void {
    if (account) this.byPair.clear(pair(ip, account));
  }

  /** An admin's unlock: the account's failures are forgotten, from every address. True when there were any. */
  unlock(account: string): boolean {
    const pairs = this.byPair.clearWhere((k) => k.startsWith(`${account}\n`));
    return this.byAccount.clear(account) || pairs;
  }
}

const shared = globalThis as unknown as { keelSignInThrottle?: SignInThrottle };

/** The console process's throttle, shared by the sign-in route and the unlock procedure. */
export function signInThrottle(): SignInThrottle {
  return (shared.keelSignInThrottle ??= new SignInThrottle());
}

/** Makes `t` the process's throttle (tests with their own backoff settings). */
export function installSignInThrottle(t: SignInThrottle): void {
  shared.keelSignInThrottle = t;
}
