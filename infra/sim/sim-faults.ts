// The SIMULATED fleet's faults: latency on every agent answer (and the hello), dropped connections
// (the TCP connection is cut in the middle of a session, before the answer to a random request),
// and failed commands (receive, activate or rollback answered with IO_ERROR).
export type SimFaults = {
  /** Mean delay before each answer, ms (uniform between 0.5× and 1.5×). */
  latencyMs: number;
  /** Probability that a connection is dropped during its session (0..1). */
  lossRate: number;
  /** Probability that a receive, activate or rollback fails (0..1). */
  failRate: number;
};

export const NO_FAULTS: SimFaults = { latencyMs: 0, lossRate: 0, failRate: 0 };

export type ConnectionFate = {
  /** The request (0-based, counted over the connection) before whose answer the connection is cut. */
  dropAtRequest: number;
  requests: number;
  drop: () => void;
};

export function fateOf(faults: SimFaults, drop: () => void): ConnectionFate {
  const lost = faults.lossRate > 0 && Math.random() < faults.lossRate;
  return { dropAtRequest: lost ? Math.floor(Math.random() * 4) : -1, requests: 0, drop };
}

export function delayFor(f: SimFaults): Promise<void> {
  if (f.latencyMs <= 0) return Promise.resolve();
  const ms = f.latencyMs * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}
