// Where a CPU profile's time went, by what the code was doing (bench/step-cost.ts prints it per
// rollout with KEEL_BENCH_PROFILE). Each sample goes to the first category that matches a frame
// of its stack, from the innermost frame out; samples are wall-clock while the thread runs, so on
// a loaded machine the figures are higher than the process's CPU time — read them as shares.
type Frame = { functionName: string; url: string };
type Profile = {
  nodes: { id: number; callFrame: Frame; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
};

const RULES: [string, (f: Frame) => boolean][] = [
  [
    "SSH key exchange and auth (ssh2)",
    (f) => /ssh2/.test(f.url) && /kex|KEX|handshake|DH|sign|verify|auth/i.test(f.functionName),
  ],
  ["SSH packets and ciphers (ssh2)", (f) => /ssh2/.test(f.url)],
  ["agent session (framing, JSON)", (f) => /server\/ssh\/|agent\/protocol/.test(f.url)],
  // Both Cedar and Prisma's query compiler are wasm: a wasm frame under evaluatePolicy is Cedar.
  ["policy (Cedar)", (f) => /server\/services\/policy/.test(f.url)],
  [
    "Prisma query compiler (wasm)",
    (f) => /@prisma\/client|\.prisma\//.test(f.url) && /compile/i.test(f.functionName),
  ],
  ["Prisma client", (f) => /@prisma\/client|\.prisma\//.test(f.url)],
  ["pg-boss", (f) => /pg-boss/.test(f.url)],
  [
    "node-postgres (driver, adapter)",
    (f) => /node_modules\/(pg|pg-pool|pg-protocol|@prisma\/adapter-pg)\//.test(f.url),
  ],
  ["plan parse (zod)", (f) => /zod/.test(f.url)],
  ["audit hash chain", (f) => /server\/services\/audit/.test(f.url)],
  ["inventory write (recordFacts)", (f) => /server\/services\/inventory/.test(f.url)],
  ["rollout code", (f) => /server\/(jobs|services)\/rollouts/.test(f.url)],
  ["profiler itself", (f) => /inspector/.test(f.url)],
];

export function summarizeProfile(p: Profile, steps: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  let busy = 0;
  (p.samples ?? []).forEach((id, i) => {
    const t = p.timeDeltas?.[i] ?? 0;
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === "(idle)") return;
    busy += t;
    let cat: string | undefined;
    // wasm frames are skipped: the frame that called into the module says whose it is.
    for (let x: number | undefined = id; x !== undefined && !cat; x = parent.get(x)) {
      const f = byId.get(x)!.callFrame;
      if (!f.url.startsWith("wasm")) cat = RULES.find(([, m]) => m(f))?.[0];
    }
    cat ??= leaf.functionName === "(garbage collector)" ? "garbage collection" : "other (Node internals)";
    total.set(cat, (total.get(cat) ?? 0) + t);
  });
  const lines = [...total]
    .sort((a, b) => b[1] - a[1])
    .map(
      ([k, v]) =>
        `    ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${(v / 1000 / steps).toFixed(2).padStart(6)} ms/step  ${k}`,
    );
  return `  sampled busy ${(busy / 1000 / steps).toFixed(1)} ms/step:\n${lines.join("\n")}`;
}
