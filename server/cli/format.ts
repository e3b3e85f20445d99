// Output helpers shared by commands.

/** Left-aligned columns, two spaces apart; the first row is the header. */
export function table(rows: (string | null | undefined)[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((c, i) => (c ?? "").padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}
