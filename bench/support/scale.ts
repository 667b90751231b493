/** Sizes of one benchmark run: BENCH_SCALE=small for a quick check, the default for reported figures. */
export interface BenchScale {
  name: 'small' | 'default';
  b1Messages: number;
  b2Events: number;
  b3Customers: number;
  b4SupportConversations: number;
  b4Customers: number;
  b4Requests: number;
  /** Time budget of each B4 measurement phase (inbox, community); at least 10 pairs are measured. */
  b4BudgetMs: number;
  b5HistoryMessages: number;
  b5Requests: number;
  /** B6: interleaved pairs (portal send → stream, direct send → /sync). */
  b6Messages: number;
  /** B7: support conversations (each in its own network), 10 streams each: the customer's 5 and the administrator's 5. */
  b7Conversations: number;
  /** B7: message rates, each for b7Seconds; the first is the target's, the rest look for the highest that holds. */
  b7Rates: number[];
  b7Seconds: number;
  /** B8: events a listener misses before reconnecting. */
  b8MissedEvents: number;
  /** B10: messages the exported customer sent (spread over several conversations). */
  b10Messages: number;
}

export const SCALES: Record<BenchScale['name'], BenchScale> = {
  small: {
    name: 'small',
    b1Messages: 30,
    b2Events: 300,
    b3Customers: 400,
    b4SupportConversations: 1000,
    b4Customers: 5000,
    b4Requests: 60,
    b4BudgetMs: 60000,
    b5HistoryMessages: 60,
    b5Requests: 40,
    b6Messages: 30,
    b7Conversations: 100,
    b7Rates: [10, 25, 50],
    b7Seconds: 10,
    b8MissedEvents: 1000,
    b10Messages: 5000,
  },
  default: {
    name: 'default',
    b1Messages: 200,
    b2Events: 2000,
    b3Customers: 10000,
    b4SupportConversations: 10000,
    b4Customers: 100000,
    b4Requests: 300,
    b4BudgetMs: 240000,
    b5HistoryMessages: 200,
    b5Requests: 200,
    b6Messages: 200,
    b7Conversations: 1000,
    b7Rates: [50, 100, 200],
    b7Seconds: 20,
    b8MissedEvents: 1000,
    b10Messages: 50000,
  },
};

export function scaleFromEnv(): BenchScale {
  const name = process.env.BENCH_SCALE ?? 'default';
  if (name !== 'small' && name !== 'default') throw new Error(`BENCH_SCALE must be "small" or unset (default), not "${name}"`);
  return SCALES[name];
}
