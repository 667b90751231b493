/** What one chaos scenario reports: its counts, and every way it lost or duplicated data. */
export interface ScenarioResult {
  id: string;
  title: string;
  counts: Record<string, number | string>;
  problems: string[];
}

export function formatScenario(r: ScenarioResult): string {
  const counts = Object.entries(r.counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const verdict = r.problems.length === 0 ? 'ok' : `FAILED: ${r.problems.join('; ')}`;
  return `${r.id} ${r.title}: ${counts} — ${verdict}`;
}
