// Runtimes shared by apps (decision 0023): an app's signed manifest may declare
// `requires: [{ runtime, versions }]`, where `versions` is a small, strict version range. A
// requirement is met on a host when the runtime's `current` version satisfies the range.
// Versions compare with compareVersions (names.ts), so `1.10` > `1.9` here as everywhere in Keel.
//
// Range grammar (whitespace-separated comparators are ANDed, `||` ORs sets):
//   *                         any version
//   1.2.3  =1.2.3             exactly that version
//   >=V >V <=V <V             V any valid version
//   ^1.2.3                    >=1.2.3, below the next major (^0.2.3: below 0.3; ^0.0.3: below 0.0.4)
//   ~1.2.3  ~1.2  ~1          >=1.2.3 below 1.3; >=1.2 below 1.3; >=1 below 2
//   1.x  1.2.x  1  1.2        the same as ~ without a lower patch (1.x = >=1 below 2)
// Upper bounds exclude pre-releases of the bound (`^1` excludes `2.0-rc1`: the bound is `2~`).
import { ProtocolInputError, arr, obj, str } from "./check";
import { appNameProblem, compareVersions, isValidVersion, versionProblem } from "./names";

export interface RuntimeRequirement {
  /** The runtime's name (an app name: the same rules). */
  runtime: string;
  /** A version range (grammar above). */
  versions: string;
}

type Op = ">=" | ">" | "<=" | "<" | "=";
type Comparator = { op: Op; version: string };
/** OR of AND-sets of comparators; an empty AND-set matches everything (`*`). */
export type VersionRange = Comparator[][];

export const MAX_RANGE_LENGTH = 256;
export const MAX_REQUIRES = 8;
const NUMERIC = /^(0|[1-9]\d{0,8})(?:\.(0|[1-9]\d{0,8}|x|\*))?(?:\.(0|[1-9]\d{0,8}|x|\*))?$/;

export class RangeSyntaxError extends Error {}

function numericParts(text: string, whole: string): (number | null)[] {
  const m = NUMERIC.exec(text);
  if (!m)
    throw new RangeSyntaxError(
      `${JSON.stringify(whole)}: ${JSON.stringify(text)} is not a version like 1, 1.2 or 1.2.3`,
    );
  const parts: (number | null)[] = [];
  for (const p of [m[1], m[2], m[3]]) {
    if (p === undefined) break;
    parts.push(p === "x" || p === "*" ? null : Number(p));
  }
  // Nothing numeric may follow a wildcard (1.x.3).
  const firstWild = parts.indexOf(null);
  if (firstWild >= 0 && parts.slice(firstWild).some((p) => p !== null)) {
    throw new RangeSyntaxError(
      `${JSON.stringify(whole)}: a number after a wildcard in ${JSON.stringify(text)}`,
    );
  }
  const fixed = firstWild >= 0 ? parts.slice(0, firstWild) : parts;
  return fixed;
}

const join = (ns: number[]) => ns.join(".");
/** Just below `ns` (no pre-release of it included). */
const below = (ns: number[]): Comparator => ({ op: "<", version: `${join(ns)}~` });

function tilde(ns: number[]): Comparator[] {
  if (ns.length === 0) return [];
  const low: Comparator = { op: ">=", version: join(ns) };
  const up = ns.length === 1 ? [ns[0]! + 1] : [ns[0]!, ns[1]! + 1];
  return [low, below(up)];
}

function caret(ns: number[]): Comparator[] {
  if (ns.length === 0) return [];
  const low: Comparator = { op: ">=", version: join(ns) };
  const i = ns.findIndex((n, k) => n !== 0 || k === ns.length - 1);
  const up = ns.slice(0, i + 1);
  up[i] = up[i]! + 1;
  return [low, below(up)];
}

function comparator(token: string, whole: string): Comparator[] {
  if (token === "*" || token === "x") return [];
  if (token.startsWith("^")) return caret(numericParts(token.slice(1), whole) as number[]);
  if (token.startsWith("~")) return tilde(numericParts(token.slice(1), whole) as number[]);
  const m = /^(>=|<=|>|<|=)?(.*)$/.exec(token)!;
  const op = m[1] as Op | undefined;
  const v = m[2]!;
  if (!op && NUMERIC.test(v)) {
    // A full version (1.2.3) is exact; a partial one (1, 1.2, 1.x, 1.2.x) is a tilde range.
    const ns = numericParts(v, whole) as number[];
    return ns.length === 3 ? [{ op: "=", version: v }] : tilde(ns);
  }
  if (!op)
    throw new RangeSyntaxError(
      `${JSON.stringify(whole)}: ${JSON.stringify(token)} is not a range; write =${token} for exactly that version`,
    );
  if (!isValidVersion(v))
    throw new RangeSyntaxError(
      `${JSON.stringify(whole)}: ${JSON.stringify(token)} is not an operator (>=, >, <=, <, =, ^, ~) with a valid version`,
    );
  return [{ op, version: v }];
}

/** Parses a range; throws RangeSyntaxError with a message naming the offending part. */
export function parseRange(text: string): VersionRange {
  if (typeof text !== "string") throw new RangeSyntaxError("a range must be a string");
  if (text.length === 0 || text.length > MAX_RANGE_LENGTH)
    throw new RangeSyntaxError(`a range must have 1–${MAX_RANGE_LENGTH} characters`);
  if (!/^[0-9A-Za-z._+~\-<>=^*| ]+$/.test(text))
    throw new RangeSyntaxError(`${JSON.stringify(text)} holds characters no range uses`);
  const sets = text.split("||").map((s) => s.trim());
  if (sets.length > 8) throw new RangeSyntaxError(`${JSON.stringify(text)}: at most 8 alternatives (||)`);
  return sets.map((set) => {
    if (set === "") throw new RangeSyntaxError(`${JSON.stringify(text)}: an empty alternative around ||`);
    const tokens = set.split(/ +/);
    if (tokens.length > 8)
      throw new RangeSyntaxError(`${JSON.stringify(text)}: at most 8 comparators per alternative`);
    return tokens.flatMap((t) => comparator(t, text));
  });
}

function test(c: Comparator, v: string): boolean {
  const r = compareVersions(v, c.version);
  switch (c.op) {
    case ">=":
      return r >= 0;
    case ">":
      return r > 0;
    case "<=":
      return r <= 0;
    case "<":
      return r < 0;
    case "=":
      return r === 0;
  }
}

export function satisfies(version: string, range: string | VersionRange): boolean {
  const r = typeof range === "string" ? parseRange(range) : range;
  return r.some((set) => set.every((c) => test(c, version)));
}

/** The newest of `versions` that satisfies the range, or null. */
export function newestSatisfying(versions: readonly string[], range: string): string | null {
  const r = parseRange(range);
  const ok = versions.filter((v) => satisfies(v, r)).sort(compareVersions);
  return ok.at(-1) ?? null;
}

/** Why a range is refused, or null. */
export function rangeProblem(text: unknown): string | null {
  try {
    parseRange(text as string);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Validates a manifest's `requires` (as in `manifest.requires`); `path` names it in errors. */
export function validateRequires(v: unknown, path = "requires"): RuntimeRequirement[] {
  const seen = new Set<string>();
  const out = arr(v, path, MAX_REQUIRES, (x, p) => {
    const o = obj(x, p, ["runtime", "versions"]);
    const np = appNameProblem(o.runtime);
    if (np) throw new ProtocolInputError(`${p}.runtime`, np.replace("app name", "runtime name"));
    const runtime = o.runtime as string;
    if (seen.has(runtime)) throw new ProtocolInputError(`${p}.runtime`, `${runtime} is required twice`);
    seen.add(runtime);
    const versions = str(o.versions, `${p}.versions`, { min: 1, max: MAX_RANGE_LENGTH });
    const rp = rangeProblem(versions);
    if (rp) throw new ProtocolInputError(`${p}.versions`, rp);
    return { runtime, versions };
  });
  if (out.length === 0) throw new ProtocolInputError(path, "must not be empty (leave it out instead)");
  return out;
}

/** The store section of a kind: runtimes live under runtimes/, everything else under apps/. */
export type StoreSection = "apps" | "runtimes";
export function sectionOf(kind: string | undefined): StoreSection {
  return kind === "runtime" ? "runtimes" : "apps";
}

/** Commands that act on one installed release take `kind: "runtime"` to act in runtimes/. */
export const SECTION_COMMANDS = ["activate", "rollback", "remove", "gc", "verify", "health"] as const;
export interface SectionArg {
  /** "runtime": the release lives under runtimes/ (default: apps/). */
  kind?: "app" | "runtime";
  /**
   * activate, kind runtime: the switch is part of moving `app` to `version` (received already),
   * so that app is judged by that version's requirements (an app and its runtime change together).
   */
  together?: { app: string; version: string };
}

/** Validates and strips `kind` (and `together`) for SECTION_COMMANDS, validates the rest, and puts them back. */
export function takeSectionArg(command: string, v: unknown, rest: (v: unknown) => unknown): unknown {
  if (
    !(SECTION_COMMANDS as readonly string[]).includes(command) ||
    typeof v !== "object" ||
    v === null ||
    !("kind" in v || "together" in v)
  )
    return rest(v);
  const { kind, together, ...others } = v as { kind?: unknown; together?: unknown };
  if (kind !== undefined && kind !== "app" && kind !== "runtime")
    throw new ProtocolInputError("args.kind", "must be one of app, runtime");
  const r = rest(others) as Record<string, unknown>;
  const out: Record<string, unknown> = kind === "runtime" ? { ...r, kind } : r;
  if (together !== undefined) {
    if (command !== "activate" || kind !== "runtime")
      throw new ProtocolInputError("args.together", "goes only with activate of a runtime");
    const t = obj(together, "args.together", ["app", "version"]);
    const ap = appNameProblem(t.app);
    if (ap) throw new ProtocolInputError("args.together.app", ap);
    const vp = versionProblem(t.version);
    if (vp) throw new ProtocolInputError("args.together.version", vp);
    out.together = { app: t.app, version: t.version };
  }
  return out;
}
