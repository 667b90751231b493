import type { Redis } from 'ioredis';
import { compareEventIds, isEventId, recipientKey, type LiveEvent, type LiveEventType, type LiveRecipient } from './liveEvents';

/**
 * The shared, bounded event log in Redis: one Redis stream per recipient (README "Live events").
 *
 * - `live:log:<r>`   the recipient's events (XADD, trimmed to about LOG_MAX_EVENTS, never fewer;
 *                    the key lives RETENTION_SECONDS after its last event)
 * - `live:since:<r>` the id from which that log is complete; set when the recipient first connects,
 *                    kept while they connect at least once per retention window. Events are logged
 *                    only for recipients that have it, so people who never open a stream cost nothing.
 * - `live:ch:<r>`    the fan-out channel (pub/sub) every API process with a listener of r subscribes to
 * - `live:net:<n>`, `live:admins:<n>`  who of a network listens (score: last seen), for events of a
 *                    whole network and for support conversations (every administrator takes part)
 * - `live:slots:<r>` the recipient's open streams (score: last heartbeat), for the cap
 * - `live:once:<k>`  an event already published (portal send and appservice publish the same message)
 *
 * Appending and publishing happen in one Lua script, so each channel's messages leave Redis in the
 * order of the log's ids, whichever process published them.
 */

export const LOG_MAX_EVENTS = 10000;
export const RETENTION_SECONDS = 24 * 3600;
/**
 * How long an announced event's once-key is kept: the portal's send and the appservice's copy of
 * the same event arrive seconds apart (minutes while the appservice works off a backlog). One key
 * per event listened to; at 50 messages/s about 360,000 keys (~40 MB) at most.
 */
export const ONCE_TTL_SECONDS = 3600;

export const logKey = (r: string) => `live:log:${r}`;
export const sinceKey = (r: string) => `live:since:${r}`;
export const channelOf = (r: string) => `live:ch:${r}`;
export const slotsKey = (r: string) => `live:slots:${r}`;
export const networkListenersKey = (networkId: string) => `live:net:${encodeURIComponent(networkId)}`;
export const networkAdminListenersKey = (networkId: string) => `live:admins:${encodeURIComponent(networkId)}`;
const onceKey = (key: string) => `live:once:${key}`;
/** A control message on a recipient's channel (never a log entry): end their streams. */
export const END_STREAMS = '!end';

const PUBLISH_SCRIPT = `
local dedupe = ARGV[1]
local now = tonumber(ARGV[3])
local maxlen = ARGV[4]
local retention = tonumber(ARGV[5])
local etype = ARGV[6]
local common = ARGV[7]
local data = {}
local order = {}
local function add(r, d)
  if data[r] == nil then table.insert(order, r) end
  if data[r] == nil or d ~= '' then data[r] = d end
end
for _, setKey in ipairs({ARGV[8], ARGV[9]}) do
  if setKey ~= '' then
    redis.call('ZREMRANGEBYSCORE', setKey, '-inf', now - retention * 1000)
    for _, r in ipairs(redis.call('ZRANGE', setKey, 0, -1)) do add(r, '') end
  end
end
local i = 10
while i < #ARGV do add(ARGV[i], ARGV[i + 1]); i = i + 2 end
local listening = {}
for _, r in ipairs(order) do
  if redis.call('EXISTS', 'live:since:' .. r) == 1 then table.insert(listening, r) end
end
if #listening == 0 then return 0 end
-- Recorded only when someone listens: an event nobody was told of needs no guard against a second telling.
if dedupe ~= '' then
  if not redis.call('SET', dedupe, '1', 'NX', 'EX', ARGV[2]) then return -1 end
end
local sent = 0
for _, r in ipairs(listening) do
  local d = data[r]
  if d == '' then d = common end
  local id = redis.call('XADD', 'live:log:' .. r, 'MAXLEN', '~', maxlen, '*', 't', etype, 'd', d)
  redis.call('EXPIRE', 'live:log:' .. r, retention)
  redis.call('PUBLISH', 'live:ch:' .. r, id .. '\\n' .. etype .. '\\n' .. d)
  sent = sent + 1
end
return sent
`;

// \`since\` is just below Redis's own clock (which XADD ids come from, whatever the API hosts' clocks
// say): every event logged from now on has a greater id.
const REGISTER_SCRIPT = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], string.format('%d', ms - 1) .. '-18446744073709551615', 'NX')
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if KEYS[3] then
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return redis.call('GET', KEYS[1])
`;

const ACQUIRE_SLOT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

type LogCommands = {
  livePublish(...args: string[]): Promise<number>;
  liveRegister(keys: number, ...args: string[]): Promise<string>;
  liveAcquireSlot(key: string, ...args: string[]): Promise<number>;
};

function commands(redis: Redis): Redis & LogCommands {
  const r = redis as Redis & Partial<LogCommands>;
  if (!r.livePublish) {
    redis.defineCommand('livePublish', { numberOfKeys: 0, lua: PUBLISH_SCRIPT });
    redis.defineCommand('liveRegister', { lua: REGISTER_SCRIPT });
    redis.defineCommand('liveAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT_SCRIPT });
  }
  return r as Redis & LogCommands;
}

export interface Addressing {
  /** Recipients named one by one, each optionally with their own data (else the common data). */
  to?: ReadonlyArray<{ recipient: LiveRecipient; data?: unknown }>;
  /** Every administrator of this network who listens (support conversations). */
  networkAdmins?: string;
  /** Everyone of this network who listens (the chats toggle, visibility). */
  network?: string;
}

/** Appends one event to each addressed recipient's log and announces it; -1 when `onceKey` was already published. */
export async function appendEvent(redis: Redis, type: LiveEventType, addressing: Addressing, data: unknown, opts: { onceKey?: string } = {}): Promise<number> {
  const pairs: string[] = [];
  for (const t of addressing.to ?? []) pairs.push(recipientKey(t.recipient), t.data === undefined ? '' : JSON.stringify({ ...(t.data as object) }));
  return commands(redis).livePublish(
    opts.onceKey ? onceKey(opts.onceKey) : '',
    String(ONCE_TTL_SECONDS),
    String(Date.now()),
    String(LOG_MAX_EVENTS),
    String(RETENTION_SECONDS),
    type,
    JSON.stringify(data ?? {}),
    addressing.networkAdmins ? networkAdminListenersKey(addressing.networkAdmins) : '',
    addressing.network ? networkListenersKey(addressing.network) : '',
    ...pairs,
  );
}

/** Which of these recipients listen (have a log), and the network's listening administrators. */
export async function listeningRecipients(redis: Redis, candidates: readonly LiveRecipient[], adminsOfNetwork?: string): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (const c of candidates) pipeline.exists(sinceKey(recipientKey(c)));
  if (adminsOfNetwork) pipeline.zrangebyscore(networkAdminListenersKey(adminsOfNetwork), Date.now() - RETENTION_SECONDS * 1000, '+inf');
  const results = (await pipeline.exec()) ?? [];
  const found = new Set<string>();
  candidates.forEach((c, i) => {
    if (results[i]?.[1] === 1) found.add(recipientKey(c));
  });
  if (adminsOfNetwork) for (const r of (results[candidates.length]?.[1] as string[] | undefined) ?? []) found.add(r);
  return [...found];
}

/** Starts (or keeps) logging for a recipient who connects; returns the id their log is complete from. */
export async function registerListener(redis: Redis, recipient: LiveRecipient): Promise<string> {
  const r = recipientKey(recipient);
  const keys = [sinceKey(r), networkListenersKey(recipient.networkId), ...(recipient.kind === 'admin' ? [networkAdminListenersKey(recipient.networkId)] : [])];
  return commands(redis).liveRegister(keys.length, ...keys, String(Date.now()), String(RETENTION_SECONDS), r);
}

/** Keeps the registrations and stream slots of connected recipients alive (one pipeline per heartbeat). */
export async function refreshListeners(redis: Redis, connected: ReadonlyArray<{ recipient: LiveRecipient; slotIds: readonly string[] }>): Promise<void> {
  if (connected.length === 0) return;
  const now = Date.now();
  const pipeline = redis.pipeline();
  for (const { recipient, slotIds } of connected) {
    const r = recipientKey(recipient);
    pipeline.expire(sinceKey(r), RETENTION_SECONDS);
    pipeline.zadd(networkListenersKey(recipient.networkId), now, r);
    if (recipient.kind === 'admin') pipeline.zadd(networkAdminListenersKey(recipient.networkId), now, r);
    for (const slot of slotIds) pipeline.zadd(slotsKey(r), 'XX', now, slot);
  }
  await pipeline.exec();
}

/** Takes one of the recipient's stream slots; false when `cap` live streams hold them all. */
export async function acquireSlot(redis: Redis, recipient: LiveRecipient, slotId: string, cap: number, staleAfterMs: number): Promise<boolean> {
  return (await commands(redis).liveAcquireSlot(slotsKey(recipientKey(recipient)), String(Date.now()), String(staleAfterMs), String(cap), slotId)) === 1;
}

export async function releaseSlot(redis: Redis, recipient: LiveRecipient, slotId: string): Promise<void> {
  await redis.zrem(slotsKey(recipientKey(recipient)), slotId);
}

/** An event as the log and the channel hold it: its data still the JSON text it was published as. */
export interface RawLiveEvent {
  id: string;
  type: LiveEventType;
  json: string;
}

/**
 * What a reconnecting listener missed since `lastEventId`: the events after it, in order, or
 * `resync` when the log cannot say (the id is not ours, it is older than the retention window, or
 * something after it was trimmed).
 */
export async function eventsAfter(redis: Redis, recipient: LiveRecipient, lastEventId: string): Promise<{ resync: true; resumeId: string } | { resync: false; events: LiveEvent[] }> {
  const missed = await rawEventsAfter(redis, recipient, lastEventId);
  if (missed.resync) return missed;
  return { resync: false, events: missed.events.map((e) => ({ id: e.id, type: e.type, data: JSON.parse(e.json) })) };
}

/** The same as {@link eventsAfter}, the data left as published (the hub frames it without parsing it). */
/**
 * Where a stream opened now begins: the newest id of the recipient's log (or the point from which
 * it is complete, when it holds nothing newer). A listener that resumes from it misses nothing
 * logged after it.
 */
export async function streamStartId(redis: Redis, recipient: LiveRecipient): Promise<string> {
  const r = recipientKey(recipient);
  const [since, info] = await Promise.all([redis.get(sinceKey(r)), streamInfo(redis, logKey(r))]);
  return newestPosition(since, info);
}

function newestPosition(since: string | null, info: { lastId: string } | null): string {
  return info?.lastId && since && compareEventIds(info.lastId, since) > 0 ? info.lastId : (since ?? `${Date.now()}-0`);
}

export async function rawEventsAfter(redis: Redis, recipient: LiveRecipient, lastEventId: string): Promise<{ resync: true; resumeId: string } | { resync: false; events: RawLiveEvent[] }> {
  const r = recipientKey(recipient);
  const [since, info] = await Promise.all([redis.get(sinceKey(r)), streamInfo(redis, logKey(r))]);
  const resumeId = newestPosition(since, info);
  if (!isEventId(lastEventId) || !since || compareEventIds(since, lastEventId) > 0) return { resync: true, resumeId };
  if (!info) {
    const ms = Number(lastEventId.split('-')[0]);
    return ms < Date.now() - RETENTION_SECONDS * 1000 ? { resync: true, resumeId } : { resync: false, events: [] };
  }
  // Trimming removes the oldest entries (XINFO's max-deleted-entry-id does not follow trims, only
  // XDEL): when any were removed and the oldest kept is after the id, what lay between is gone.
  if (info.trimmed && info.firstId !== null && compareEventIds(info.firstId, lastEventId) > 0) return { resync: true, resumeId };
  const events: RawLiveEvent[] = [];
  let from = `(${lastEventId}`;
  for (;;) {
    const page = await redis.xrange(logKey(r), from, '+', 'COUNT', 2000);
    for (const [id, fields] of page) events.push(entryToRaw(id, fields));
    if (page.length < 2000) return { resync: false, events };
    from = `(${page[page.length - 1]![0]}`;
  }
}

async function streamInfo(redis: Redis, key: string): Promise<{ lastId: string; firstId: string | null; trimmed: boolean } | null> {
  const raw = (await redis.call('XINFO', 'STREAM', key).catch((err: Error) => {
    if (/no such key/i.test(err.message)) return null;
    throw err;
  })) as unknown[] | null;
  if (!raw) return null;
  const field = (name: string) => raw[raw.indexOf(name) + 1];
  const first = field('first-entry') as [string, unknown] | null;
  return { lastId: String(field('last-generated-id')), firstId: first ? first[0] : null, trimmed: Number(field('entries-added')) > Number(field('length')) };
}

function entryToRaw(id: string, fields: string[]): RawLiveEvent {
  const type = fields[fields.indexOf('t') + 1] as LiveEventType;
  return { id, type, json: fields[fields.indexOf('d') + 1] ?? '{}' };
}

/** A channel message (`id\ntype\ndata`) as an event, its data left as JSON text; null for a control message. */
export function channelMessageToRaw(message: string): RawLiveEvent | null {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  if (first < 0 || second < 0) return null;
  return { id: message.slice(0, first), type: message.slice(first + 1, second) as LiveEventType, json: message.slice(second + 1) };
}

export async function endStreamsOf(redis: Redis, recipient: LiveRecipient): Promise<void> {
  await redis.publish(channelOf(recipientKey(recipient)), END_STREAMS);
}

/** Stores a ticket for `ttlSeconds`; taking it back deletes it (GETDEL), so it opens one stream. */
export async function storeTicket(redis: Redis, ticketHash: string, value: unknown, ttlSeconds: number): Promise<void> {
  await redis.set(`live:ticket:${ticketHash}`, JSON.stringify(value), 'EX', ttlSeconds);
}

export async function takeTicket<T>(redis: Redis, ticketHash: string): Promise<T | null> {
  const raw = await redis.getdel(`live:ticket:${ticketHash}`);
  return raw ? (JSON.parse(raw) as T) : null;
}
