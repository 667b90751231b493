/**
 * One measured figure of a benchmark, side by side with the same work done directly on Synapse or
 * MongoDB in the same run. `targetOn` says whether the target applies to the ratio or the value.
 */
export interface BenchResult {
  id: string;
  metric: string;
  unit: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  target: number | null;
  targetOn: 'ratio' | 'value';
  better: 'lower' | 'higher';
  /** How the figure was obtained (sample size, scale); printed under the table. */
  note?: string;
}

export function result(fields: Omit<BenchResult, 'ratio'> & { ratio?: number | null }): BenchResult {
  const ratio =
    fields.ratio !== undefined ? fields.ratio : fields.baseline !== null && fields.baseline !== 0 ? fields.value / fields.baseline : null;
  return { ...fields, ratio: ratio === null ? null : round(ratio, 3), value: round(fields.value, 2), baseline: fields.baseline === null ? null : round(fields.baseline, 2) };
}

/** Whether a figure meets its target; null when it has none. */
export function meetsTarget(r: BenchResult): boolean | null {
  if (r.target === null) return null;
  const measured = r.targetOn === 'ratio' ? r.ratio : r.value;
  if (measured === null || Number.isNaN(measured)) return false;
  return r.better === 'lower' ? measured <= r.target : measured >= r.target;
}

export function formatTable(results: readonly BenchResult[]): string {
  const header = ['id', 'metric', 'value', 'baseline', 'ratio', 'target', 'met'];
  const rows = results.map((r) => {
    const met = meetsTarget(r);
    const cmp = r.better === 'lower' ? '<=' : '>=';
    return [
      r.id,
      r.metric,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline === null ? '-' : `${fmt(r.baseline)} ${r.unit}`,
      r.ratio === null ? '-' : fmt(r.ratio),
      r.target === null ? '-' : `${r.targetOn} ${cmp} ${fmt(r.target)}${r.targetOn === 'value' ? ` ${r.unit}` : ''}`,
      met === null ? '' : met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  const notes = results.filter((r) => r.note).map((r) => `  ${r.id} ${r.metric}: ${r.note}`);
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'n/a';
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
