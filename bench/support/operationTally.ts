import { onDatabaseOperation } from '../../store';

/**
 * Counts the MongoDB operations the services in this process issue through the store, by "method collection": the breakdown behind a latency or throughput figure. The
 * benchmarks' own queries use the driver directly, so they are not counted.
 */
export function tallyOperations(): { stop(): Map<string, number> } {
  const counts = new Map<string, number>();
  const stopListening = onDatabaseOperation((collection, method) => {
    const key = `${method} ${collection}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return {
    stop() {
      stopListening();
      return counts;
    },
  };
}

/** "12.0 per event (findOne conversations 3.0, updateOne processed_events 1.0, …)" */
export function describeTally(counts: Map<string, number>, per: number, unit: string, top = 6): string {
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  const parts = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, n]) => `${k} ${(n / per).toFixed(1)}`);
  return `${(total / per).toFixed(1)} MongoDB operations per ${unit} (${parts.join(', ')})`;
}
