// Version order for reports: numeric runs compare as numbers (1.10 after 1.9), other runs as text,
// `~` sorts before anything (pre-releases), like dpkg. Used only to sort and classify drift; the
// agent/protocol owns the comparison that decides installs.
export function compareVersionStrings(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|[^\d]+/g) ?? [];
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return y !== undefined && y.startsWith("~") ? 1 : -1;
    if (y === undefined) return x.startsWith("~") ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(BigInt(x) - BigInt(y));
      if (d !== 0) return d < 0 ? -1 : 1;
      continue;
    }
    if (nx !== ny) return nx ? 1 : -1;
    if (x !== y) {
      if (x.startsWith("~") !== y.startsWith("~")) return x.startsWith("~") ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
