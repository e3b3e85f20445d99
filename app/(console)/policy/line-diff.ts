// A line diff (Myers' O(ND) shortest edit script) for showing a policy version against the policy in
// force. Lines are compared and returned exactly as written — leading spaces, tabs and blank lines
// are content (Cedar is read by people; an indentation change is a change) — only a CRLF line end is
// read as LF. Each line carries its numbers in the old and the new text, as a reviewer cites them.
export type DiffLine =
  | { kind: "same"; text: string; oldNo: number; newNo: number }
  | { kind: "del"; text: string; oldNo: number }
  | { kind: "add"; text: string; newNo: number };

/** Past this many differing lines the edit script is not searched further: the rest is shown as replaced. */
const MAX_EDITS = 2000;

export function splitLines(text: string): string[] {
  return text.replace(/\r\n/g, "\n").split("\n");
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common head and tail first: most edits touch a few lines of a long text.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const ops: ("same" | "del" | "add")[] = [];
  for (let i = 0; i < head; i++) ops.push("same");
  ops.push(...middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail)));
  for (let i = 0; i < tail; i++) ops.push("same");
  return number(reorderHunks(ops), a, b);
}

/** Myers: for each edit count d, the furthest x reached on each diagonal k = x - y; then walk back. */
function middle(a: string[], b: string[]): ("same" | "del" | "add")[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return [...new Array<"del">(n).fill("del"), ...new Array<"add">(m).fill("add")];
  const max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2)); // V before step d, diagonals -d-1 … d+1
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  // Too different to be worth the search: everything between the common head and tail is replaced.
  return [...new Array<"del">(n).fill("del"), ...new Array<"add">(m).fill("add")];
}

function backtrack(trace: Int32Array[], n: number, m: number): ("same" | "del" | "add")[] {
  const out: ("same" | "del" | "add")[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const at = (k: number) => vd[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push("same");
      x--;
      y--;
    }
    if (d > 0) out.push(x === prevX ? "add" : "del");
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** Within each run of changed lines, removals first, then additions: "was … is now …". */
function reorderHunks(ops: ("same" | "del" | "add")[]): ("same" | "del" | "add")[] {
  const out: ("same" | "del" | "add")[] = [];
  let dels = 0;
  let adds = 0;
  const flush = () => {
    for (; dels > 0; dels--) out.push("del");
    for (; adds > 0; adds--) out.push("add");
  };
  for (const op of ops) {
    if (op === "del") dels++;
    else if (op === "add") adds++;
    else {
      flush();
      out.push(op);
    }
  }
  flush();
  return out;
}

function number(ops: ("same" | "del" | "add")[], a: string[], b: string[]): DiffLine[] {
  let i = 0;
  let j = 0;
  return ops.map((op): DiffLine => {
    if (op === "same") return { kind: "same", text: a[i]!, oldNo: ++i, newNo: ++j };
    if (op === "del") return { kind: "del", text: a[i]!, oldNo: ++i };
    return { kind: "add", text: b[j]!, newNo: ++j };
  });
}
