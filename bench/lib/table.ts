/** Aligned plain-text tables for benchmark reports. */

export type Cell = string | number;

export interface TableOptions {
  /** Decimals for number cells (default 1). */
  decimals?: number;
  /** Per column; by default the first column is left-aligned and the others right-aligned. */
  align?: readonly ("left" | "right")[];
  /** Spaces between columns (default 2). */
  gap?: number;
}

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): string {
  const decimals = opts.decimals ?? 1;
  const gap = " ".repeat(opts.gap ?? 2);
  const show = (c: Cell) => (typeof c === "number" ? c.toFixed(decimals) : c);
  const cells = [header, ...rows].map((row) => row.map(show));
  const columns = Math.max(...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...cells.map((row) => (row[i] ?? "").length)),
  );
  const alignOf = (i: number) => opts.align?.[i] ?? (i === 0 ? "left" : "right");
  const line = (row: readonly string[]) =>
    widths
      .map((w, i) => {
        const c = row[i] ?? "";
        return alignOf(i) === "left" ? c.padEnd(w) : c.padStart(w);
      })
      .join(gap)
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join(gap);
  const [head, ...body] = cells;
  return [line(head ?? []), rule, ...body.map(line)].join("\n");
}

/** The same table as GitHub markdown: pipes between cells, the rule row carrying the alignment. */
export function formatMarkdownTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: Pick<TableOptions, "decimals" | "align"> = {},
): string {
  const decimals = opts.decimals ?? 1;
  const show = (c: Cell) => (typeof c === "number" ? c.toFixed(decimals) : c);
  const alignOf = (i: number) => opts.align?.[i] ?? (i === 0 ? "left" : "right");
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = line(header.map((_, i) => (alignOf(i) === "left" ? ":---" : "---:")));
  return [line(header), rule, ...rows.map((row) => line(row.map(show)))].join("\n");
}
