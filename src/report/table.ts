/*
 * Plain-text tables for popek's reports (--stats, bench results): the first
 * column left-aligned, the others right-aligned, two spaces between columns.
 */

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")).join("\n");
}
