// Exact reads from a stream of pieces, for the compressed wire encodings (decision 0030): the
// reader holds at most what one read asks for, and a short input is TRUNCATED, named.
export type WireErrorCode = "UNSUPPORTED" | "CORRUPT" | "TRUNCATED" | "TOO_LARGE";

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "WireError";
  }
}

export class WireReader {
  private readonly it: AsyncIterator<Buffer>;
  private parts: Buffer[] = [];
  private held = 0;
  private done = false;

  constructor(
    input: AsyncIterable<Buffer>,
    private readonly what: string,
  ) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.held < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        this.parts.push(Buffer.from(r.value)); // the input may reuse its buffer
        this.held += r.value.length;
      }
    }
    return this.held >= n;
  }

  /** Exactly n bytes, or TRUNCATED. */
  async exact(n: number): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    if (!(await this.fill(n)))
      throw new WireError(
        "TRUNCATED",
        `the ${this.what} ended early (${this.held} of ${n} bytes of its next record)`,
      );
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.held);
    const out = all.subarray(0, n);
    this.parts = all.length > n ? [all.subarray(n)] : [];
    this.held -= n;
    return out;
  }

  /** Whatever is buffered, then the rest of the input as it comes. */
  async *rest(): AsyncGenerator<Buffer> {
    const held = this.parts;
    this.parts = [];
    this.held = 0;
    yield* held;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  /** true when any byte is left. */
  async more(): Promise<boolean> {
    return this.fill(1);
  }
}
