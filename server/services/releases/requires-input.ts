// The runtimes a build's app requires (decision 0023), as people write them on the CLI and in the
// build form: `node@^20, python@>=3.11 <3.13` (a runtime name, `@`, a range; comma-separated), or
// the manifest's own JSON form. Checked by agent/protocol before anything is built.
import {
  ProtocolInputError,
  validateRequires,
  type ReleaseKind,
  type RuntimeRequirement,
} from "@/agent/protocol";
import { AppError } from "@/server/errors";

export const MAX_REQUIRES_TEXT = 2048;

export function parseRequiresText(text: string): unknown {
  const t = text.trim();
  if (t === "") return undefined;
  if (t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch (e) {
      throw new AppError("BAD_REQUEST", { message: `requires: not valid JSON (${(e as Error).message})` });
    }
  }
  return t.split(",").map((part) => {
    const p = part.trim();
    const at = p.indexOf("@");
    if (at <= 0)
      throw new AppError("BAD_REQUEST", {
        message: `requires: ${JSON.stringify(p)} must be RUNTIME@RANGE, e.g. node@^20`,
      });
    return { runtime: p.slice(0, at), versions: p.slice(at + 1).trim() };
  });
}

/** Validated requirements (or undefined for none); refuses them on anything but an app. */
export function parseRequires(input: unknown, kind: ReleaseKind): RuntimeRequirement[] | undefined {
  const raw =
    typeof input === "string"
      ? input.length > MAX_REQUIRES_TEXT
        ? tooLong()
        : parseRequiresText(input)
      : input;
  if (raw === undefined || raw === null) return undefined;
  if (kind !== "app")
    throw new AppError("BAD_REQUEST", {
      message: `requires: only apps require runtimes (this build is a ${kind})`,
    });
  try {
    return validateRequires(raw, "requires");
  } catch (e) {
    if (e instanceof ProtocolInputError) throw new AppError("BAD_REQUEST", { message: e.message });
    throw e;
  }
}

function tooLong(): never {
  throw new AppError("BAD_REQUEST", { message: `requires: longer than ${MAX_REQUIRES_TEXT} characters` });
}

export const describeRequires = (r: readonly RuntimeRequirement[] | undefined) =>
  (r ?? []).map((x) => `${x.runtime} ${x.versions}`).join(", ");
