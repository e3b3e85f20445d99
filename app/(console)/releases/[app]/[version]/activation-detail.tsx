// What the signed manifest does when the release becomes current (docs/activation.md): its
// activation hook (and whether as root) and its exports, as rows of the release's detail list.
import { Badge } from "@/app/_components/ui";

type Manifest = {
  onActivate?: { argv: string[]; runAs?: string; shell?: boolean; timeoutMs: number };
  exports?: { from: string; dir: string; name?: string }[];
};

export function ActivationDetail({ manifest }: { manifest: unknown }) {
  const m = (manifest ?? {}) as Manifest;
  const h = m.onActivate;
  return (
    <>
      <dt className="text-muted">Activation hook</dt>
      <dd aria-label="Activation hook">
        {h ? (
          <>
            {h.runAs === "root" && <Badge tone="danger">runs as root</Badge>}{" "}
            <code className="text-xs">
              {h.shell ? `sh -c ${JSON.stringify(h.argv[0])}` : JSON.stringify(h.argv)}{" "}
              {h.runAs === "root" ? "AS ROOT" : "as keel-check"} (timeout {h.timeoutMs / 1000} s)
            </code>
          </>
        ) : (
          "none declared"
        )}
      </dd>
      <dt className="text-muted">Exports</dt>
      <dd aria-label="Exports">
        {m.exports?.length
          ? m.exports.map((e) => (
              <code key={e.dir + e.from} className="block text-xs">
                {e.dir}/{e.name ?? e.from.split("/").pop()} → current/{e.from}
              </code>
            ))
          : "none"}
      </dd>
    </>
  );
}
