// Wave specs such as ["1", "10%", "50%", "100%"] → how many hosts each wave takes. A number is a
// host count for that wave; a percentage is cumulative: "50%" means "until half the hosts are done".
// The last wave always takes whatever is left, and no wave is empty.

const SPEC = /^(?:(\d{1,6})|(\d{1,3}(?:\.\d+)?)%)$/;

export class WaveSpecError extends Error {}

export function resolveWaves(spec: string[], hostCount: number): number[] {
  if (spec.length === 0) spec = ["100%"];
  if (spec.length > 20) throw new WaveSpecError("at most 20 waves");
  const sizes: number[] = [];
  let done = 0;
  for (const raw of spec) {
    const m = SPEC.exec(raw.trim());
    if (!m)
      throw new WaveSpecError(`wave "${raw}" is neither a host count (e.g. 1) nor a percentage (e.g. 10%)`);
    let upTo: number;
    if (m[1] !== undefined) {
      const n = Number(m[1]);
      if (n < 1) throw new WaveSpecError(`wave "${raw}" must take at least one host`);
      upTo = done + n;
    } else {
      const pct = Number(m[2]);
      if (pct <= 0 || pct > 100) throw new WaveSpecError(`wave "${raw}" must be between 0% and 100%`);
      upTo = Math.ceil((pct / 100) * hostCount);
    }
    upTo = Math.min(upTo, hostCount);
    if (upTo > done) {
      sizes.push(upTo - done);
      done = upTo;
    }
  }
  if (done < hostCount) {
    if (sizes.length === 0) sizes.push(hostCount - done);
    else sizes[sizes.length - 1]! += hostCount - done;
  }
  return sizes;
}
