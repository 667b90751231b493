import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_FAMILIES } from '../../runtime/metrics';

describe('ops/grafana-dashboard.json', () => {
  test('every metric family of the service has a panel', () => {
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'ops', 'grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    for (const family of [...METRIC_FAMILIES, 'bullmq_job_count']) {
      expect({ family, panel: exprs.some((e) => new RegExp(`\\b${family}(_bucket|_count|_sum)?\\b`).test(e)) }).toEqual({ family, panel: true });
    }
  });
});
