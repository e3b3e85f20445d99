// Saves a CSV the server produced (hosts.exportCsv) as a file download in the browser.
export function downloadCsv(filename: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** "role=web dc=fra1" → { role: "web", dc: "fra1" }; null when a part is not key=value. */
export function parseLabels(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const part of text.split(/[\s,]+/)) {
    if (!part) continue;
    const i = part.indexOf("=");
    if (i <= 0) return null;
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export { formatBytes } from "@/app/_components/format-bytes";
