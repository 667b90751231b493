import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Context, Next } from 'koa';

/**
 * The process's Prometheus metrics (prom-client), served on the metrics listener (METRICS_PORT,
 * runtime/probes.ts). Labels are bounded by construction: route patterns, never raw paths; no
 * user, network or room ids. README "Deploying › Metrics" lists the families; ops/grafana-dashboard.json
 * has a panel per family.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'chat_process_' });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const registers = [metricsRegistry];

/** Live streams open in this process, summed over the hubs that report them (one per API in a process). */
const liveStreamSources = new Set<() => number>();
/** Stored transactions this process has not applied yet, summed over its processors. */
const backlogSources = new Set<() => number>();
/** A gauge whose value, at each scrape, is the sum of what its sources report now. */
function summedGauge(name: string, help: string, sources: ReadonlySet<() => number>): Gauge {
  return new Gauge({
    name,
    help,
    registers,
    collect() {
      let n = 0;
      for (const source of sources) n += source();
      this.set(n);
    },
  });
}
/** Queue exporters (BullMQ's own Prometheus text), asked at each scrape. */
const queueExporters = new Set<() => Promise<string>>();

export const metrics = {
  httpRequestDuration: new Histogram({
    name: 'chat_http_request_duration_seconds',
    help: 'HTTP requests answered, by listener, method, route pattern and status',
    labelNames: ['listener', 'method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  transactionLag: new Histogram({
    name: 'chat_appservice_transaction_lag_seconds',
    help: 'From a transaction pushed by Synapse (stored) to all of its events applied',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  }),
  transactionBacklog: summedGauge('chat_appservice_transaction_backlog', 'Transactions stored and not applied yet by this process (queued or under way)', backlogSources),
  eventsProcessed: new Counter({
    name: 'chat_appservice_events_processed_total',
    help: 'Matrix events of appservice transactions, by event type (known types, else "other") and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers,
  }),
  synapseRequestDuration: new Histogram({
    name: 'chat_synapse_request_duration_seconds',
    help: 'Requests to Synapse (client-server and admin API), by method, endpoint pattern and status',
    labelNames: ['method', 'endpoint', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  synapseRequestErrors: new Counter({
    name: 'chat_synapse_request_errors_total',
    help: 'Requests to Synapse that failed: unreachable (network, timeout, 502-504), rate_limited (429), client_error, server_error',
    labelNames: ['endpoint', 'kind'] as const,
    registers,
  }),
  liveStreams: summedGauge('chat_live_streams_connected', 'Live event streams (GET /v1/events) open in this process', liveStreamSources),
  emailsSent: new Counter({ name: 'chat_emails_sent_total', help: 'Notification emails accepted by the SMTP server', registers }),
  emailsFailed: new Counter({ name: 'chat_emails_failed_total', help: 'Notification email attempts the SMTP server refused or did not answer (retried)', registers }),
  emailDeliveryLookups: new Counter({
    name: 'chat_email_delivery_lookups_total',
    help: 'Asking the mail provider whether it accepted an email whose answer was never recorded: accepted, absent (sent again), failed (retried)',
    labelNames: ['outcome'] as const,
    registers,
  }),
};

/** Every metric family name this project defines (besides the process defaults and BullMQ's). */
export const METRIC_FAMILIES = Object.values(metrics).map((m) => (m as unknown as { name: string }).name);
/** The families BullMQ's exporter adds (processes running the provisioning worker). */
export const QUEUE_METRIC_FAMILIES = ['bullmq_job_count', 'bullmq_job_completed_total', 'bullmq_job_failed_total'];

/** Adds a source to a summed gauge; returns the undo (call it when the component stops). */
export function reportLiveStreams(source: () => number): () => void {
  liveStreamSources.add(source);
  return () => liveStreamSources.delete(source);
}
export function reportTransactionBacklog(source: () => number): () => void {
  backlogSources.add(source);
  return () => backlogSources.delete(source);
}
export function reportQueueMetrics(exporter: () => Promise<string>): () => void {
  queueExporters.add(exporter);
  return () => queueExporters.delete(exporter);
}

/** Koa middleware timing every request of a listener, labelled by the router's matched pattern. */
export function httpMetrics(listener: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const end = metrics.httpRequestDuration.startTimer();
    try {
      await next();
    } finally {
      const matched = (ctx as unknown as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : matched ? 'pattern' : 'unmatched';
      end({ listener, method: boundedMethod(ctx.method), route, status: String(ctx.status) });
    }
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
function boundedMethod(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/**
 * A Synapse path as a bounded label: the API version and the words of the path stay, every id
 * (room, user, event, transaction, media: percent-encoded, sigil-led or with digits) becomes ":id".
 */
export function synapseEndpoint(path: string): string {
  const [pathname = ''] = path.split('?');
  return pathname
    .split('/')
    .map((segment) => (segment === '' || /^(v\d+|r0|[a-z_.]{1,48})$/.test(segment) ? segment : ':id'))
    .join('/');
}

/**
 * The exposition text: prom-client's registry, then the queues' (BullMQ's exporter), whose HELP and
 * TYPE lines are merged so each family appears once however many queues report.
 */
export async function renderMetrics(): Promise<string> {
  const own = await metricsRegistry.metrics();
  const exported = await Promise.all([...queueExporters].map((e) => e().catch(() => '')));
  return own + mergeExposition(exported.join('\n'));
}

export function mergeExposition(text: string): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    const name = meta ? meta[2]! : /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    const family = families.get(name) ?? { head: [], samples: [] };
    families.set(name, family);
    if (meta) {
      if (!family.head.some((h) => h.startsWith(`# ${meta[1]} `))) family.head.push(line);
    } else family.samples.push(line);
  }
  let out = '';
  for (const f of families.values()) out += [...f.head, ...f.samples].join('\n') + '\n';
  return out;
}
