// Canonical JSON for signatures: object keys sorted by UTF-16 code units, no whitespace, only
// strings, booleans, null, safe integers, arrays and plain objects. Two parties that hold the same
// value produce the same bytes, so a signature over them can be checked anywhere.

export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

function encode(value: unknown, where: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new TypeError(`canonical JSON allows only safe integers (at ${where})`);
      }
      return String(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => encode(v, `${where}[${i}]`)).join(",")}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonical JSON allows only plain objects (at ${where})`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(obj[k], `${where}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value} (at ${where})`);
  }
}
