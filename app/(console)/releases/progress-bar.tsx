// How much of an upload has been sent (upload-request.ts reports it).
import { formatBytes } from "@/app/_components/format-bytes";
import type { Progress } from "./upload-request";

export function ProgressBar({ progress, label }: { progress: Progress; label: string }) {
  if (!progress) return null;
  const pct = progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;
  return (
    <div className="flex flex-col gap-1 text-xs" aria-label={label}>
      <progress max={100} value={pct} className="w-full" />
      <span>
        {pct}% — {formatBytes(progress.sent)} of {formatBytes(progress.total)}
        {pct === 100 && " sent; the console is checking it…"}
      </span>
    </div>
  );
}
