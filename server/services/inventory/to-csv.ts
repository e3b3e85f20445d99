// RFC 4180 CSV for exports. Cells that a spreadsheet would run as a formula (= + - @ tab CR at the
// start) get a leading apostrophe (OWASP CSV injection advice).
export type CsvCell = string | number | boolean | null | undefined | Date;

function cell(v: CsvCell): string {
  if (v === null || v === undefined) return "";
  let s = v instanceof Date ? v.toISOString() : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: CsvCell[][]): string {
  return [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}
