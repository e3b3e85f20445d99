// Tiny dependency-free validators for wire input (agent/protocol may import only Node's stdlib).
// Each returns the checked value or throws a ProtocolInputError naming the offending path.

export class ProtocolInputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "ProtocolInputError";
  }
}

export type Obj = Record<string, unknown>;

export function obj(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ProtocolInputError(path, "must be an object");
  }
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ProtocolInputError(`${path}.${k}`, "unknown field");
  }
  return v as Obj;
}

export function str(
  v: unknown,
  path: string,
  opts: { max?: number; pattern?: RegExp; min?: number } = {},
): string {
  if (typeof v !== "string") throw new ProtocolInputError(path, "must be a string");
  if (v.length < (opts.min ?? 0))
    throw new ProtocolInputError(path, `must have at least ${opts.min} characters`);
  if (v.length > (opts.max ?? 4096))
    throw new ProtocolInputError(path, `is longer than ${opts.max ?? 4096} characters`);
  if (opts.pattern && !opts.pattern.test(v)) {
    throw new ProtocolInputError(path, `does not match ${opts.pattern.source}`);
  }
  return v;
}

export function int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw new ProtocolInputError(path, "must be an integer");
  if (v < min || v > max) throw new ProtocolInputError(path, `must be between ${min} and ${max}`);
  return v;
}

export function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new ProtocolInputError(path, "must be true or false");
  return v;
}

export function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
    throw new ProtocolInputError(path, `must be one of ${values.join(", ")}`);
  }
  return v as T;
}

export function arr<T>(v: unknown, path: string, max: number, item: (x: unknown, p: string) => T): T[] {
  if (!Array.isArray(v)) throw new ProtocolInputError(path, "must be an array");
  if (v.length > max) throw new ProtocolInputError(path, `has more than ${max} items`);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

export function opt<T>(v: unknown, f: (x: unknown) => T): T | undefined {
  return v === undefined ? undefined : f(v);
}
