/**
 * How Matrix events relate to messages (pure): edits (`m.replace`), replies (`m.in_reply_to`) and
 * reactions (`m.annotation`), read from an event's content the way the Matrix spec defines them.
 * The index (messageIndex.ts), the history (messageHistory.ts) and the portal's own edits and
 * reactions all read them here, so the portal and Matrix clients agree on what counts.
 */

/** Message types whose text can be edited (attachments keep their file name). */
const TEXT_MSGTYPES = new Set(['m.text', 'm.notice', 'm.emote']);

export function isTextMsgtype(msgtype: unknown): boolean {
  return TEXT_MSGTYPES.has(String(msgtype ?? 'm.text'));
}

export type MessageRelation =
  | { kind: 'edit'; targetId: string; newBody: string | null }
  | { kind: 'reply'; targetId: string }
  | { kind: 'reaction'; targetId: string; key: string };

/**
 * The relation an event's content declares, or null. An edit's `newBody` is the text of its
 * `m.new_content` when that is a text message, else null (an edit that turns a text into a file is
 * no text edit).
 */
export function relationOf(type: string, content: Record<string, unknown> | undefined): MessageRelation | null {
  const relates = content?.['m.relates_to'];
  if (!relates || typeof relates !== 'object') return null;
  const r = relates as Record<string, unknown>;
  if (type === 'm.reaction') {
    return r.rel_type === 'm.annotation' && typeof r.event_id === 'string' && typeof r.key === 'string' ? { kind: 'reaction', targetId: r.event_id, key: r.key } : null;
  }
  if (type !== 'm.room.message') return null;
  if (r.rel_type === 'm.replace' && typeof r.event_id === 'string') {
    const next = content?.['m.new_content'] as Record<string, unknown> | undefined;
    const newBody = next && typeof next.body === 'string' && isTextMsgtype(next.msgtype) ? next.body : null;
    return { kind: 'edit', targetId: r.event_id, newBody };
  }
  const inReplyTo = r['m.in_reply_to'] as Record<string, unknown> | undefined;
  if (inReplyTo && typeof inReplyTo.event_id === 'string') return { kind: 'reply', targetId: inReplyTo.event_id };
  return null;
}

/**
 * A reply's text without the quoted fallback older clients put in front of it (lines starting with
 * "> ", then an empty line: the spec's plain-text reply fallback). Text without a fallback stays.
 */
export function stripReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  if (i === 0 || i >= lines.length || lines[i] !== '') return body;
  return lines.slice(i + 1).join('\n');
}

/** A message's text as the portal shows it: a reply loses its quoted fallback. */
export function displayBody(body: string, relation: MessageRelation | null): string {
  return relation?.kind === 'reply' ? stripReplyFallback(body) : body;
}

/** Longest reaction key that is not a single emoji, in characters (code points). */
export const REACTION_KEY_MAX_CHARACTERS = 16;
// The `v` flag (properties of strings: whole emoji sequences) is newer than the compile target.
const SINGLE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A reaction key the portal accepts and shows: one emoji (however many code points it is made of),
 * or a short text of at most 16 characters without control characters or surrounding spaces.
 */
export function isValidReactionKey(key: string): boolean {
  if (SINGLE_EMOJI.test(key)) return true;
  if (key.length === 0 || key.trim() !== key) return false;
  if ([...key].length > REACTION_KEY_MAX_CHARACTERS) return false;
  // Zero-width joiners and variation selectors belong to emoji sequences; alone in text they hide.
  return !CONTROL_OR_FORMAT.test(key);
}

/**
 * The event a redaction removes, read the way the room version defines it: `content.redacts` from
 * version 11 on (MSC2174), the top-level `redacts` before. Versions named by anything but a number
 * are experimental ones built on the newer rules.
 */
export function redactionTarget(event: { content?: Record<string, unknown>; redacts?: string }, roomVersion: string): string | null {
  const older = /^\d+$/.test(roomVersion) && Number(roomVersion) < 11;
  const target = older ? event.redacts : event.content?.redacts;
  return typeof target === 'string' ? target : null;
}

/** Room versions in which the room's creators hold unlimited power (MSC4289, version 12 on). */
export function creatorsArePrivileged(roomVersion: string): boolean {
  return !/^\d+$/.test(roomVersion) || Number(roomVersion) >= 12;
}

/**
 * Whether `sender` may redact other people's events, by the room's power levels (the Matrix
 * authorization rules: the user's level, else `users_default`, against `redact`, default 50), or as
 * one of the room's creators where the room version makes them privileged.
 */
export function mayRedactOthers(
  sender: string,
  room: { roomVersion: string; creators: readonly string[]; powerLevels: Record<string, unknown> | null },
): boolean {
  if (creatorsArePrivileged(room.roomVersion) && room.creators.includes(sender)) return true;
  const pl = room.powerLevels;
  if (!pl) return room.creators.includes(sender);
  const users = (pl.users ?? {}) as Record<string, unknown>;
  const level = asLevel(users[sender], asLevel(pl.users_default, 0));
  return level >= asLevel(pl.redact, 50);
}

function asLevel(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : fallback;
}
