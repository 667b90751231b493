import { isValidReactionKey, mayRedactOthers, redactionTarget, relationOf, stripReplyFallback } from '../../appservice/domain/messageRelations';

describe('message relations (pure)', () => {
  test('edits, replies and reactions are read from the content as the spec defines them', () => {
    expect(relationOf('m.room.message', { body: '* b', 'm.new_content': { msgtype: 'm.text', body: 'b' }, 'm.relates_to': { rel_type: 'm.replace', event_id: '$a' } })).toEqual({ kind: 'edit', targetId: '$a', newBody: 'b' });
    // An edit that turns the text into a file is no text edit.
    expect(relationOf('m.room.message', { 'm.new_content': { msgtype: 'm.file', body: 'x.exe', url: 'mxc://s/x' }, 'm.relates_to': { rel_type: 'm.replace', event_id: '$a' } })).toEqual({ kind: 'edit', targetId: '$a', newBody: null });
    expect(relationOf('m.room.message', { body: 'ok', 'm.relates_to': { 'm.in_reply_to': { event_id: '$q' } } })).toEqual({ kind: 'reply', targetId: '$q' });
    expect(relationOf('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m', key: '👍' } })).toEqual({ kind: 'reaction', targetId: '$m', key: '👍' });
    expect(relationOf('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m' } })).toBeNull();
    expect(relationOf('m.room.message', { body: 'plain' })).toBeNull();
    expect(relationOf('m.room.message', { body: 'thread', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } })).toBeNull();
  });

  test('the quoted reply fallback is stripped; text without one stays', () => {
    expect(stripReplyFallback('> <@a:s> question\n> more\n\nanswer\nline two')).toBe('answer\nline two');
    expect(stripReplyFallback('answer')).toBe('answer');
    expect(stripReplyFallback('> a quote I mean to send')).toBe('> a quote I mean to send');
    expect(stripReplyFallback('> quote\nno blank line')).toBe('> quote\nno blank line');
  });

  test('reaction keys: one emoji of any length, or text of at most 16 characters', () => {
    for (const ok of ['👍', '❤️', '👩‍👩‍👧‍👦', '🇪🇺', '👍🏽', '+1', 'sixteen chars!!!', 'ok ok']) expect({ ok, valid: isValidReactionKey(ok) }).toEqual({ ok, valid: true });
    for (const bad of ['', ' ', ' padded', 'padded ', 'seventeen chars!!', 'tab\tkey', 'line\nbreak', '\u200b', 'a\u200bb', 'x'.repeat(300)]) {
      expect({ bad, valid: isValidReactionKey(bad) }).toEqual({ bad, valid: false });
    }
  });

  test('a redaction target is read the way the room version defines it', () => {
    const event = { content: { redacts: '$inContent' }, redacts: '$topLevel' };
    expect(redactionTarget(event, '10')).toBe('$topLevel');
    expect(redactionTarget(event, '1')).toBe('$topLevel');
    expect(redactionTarget(event, '11')).toBe('$inContent');
    expect(redactionTarget(event, '12')).toBe('$inContent');
    expect(redactionTarget({ content: {} }, '12')).toBeNull();
  });

  test("who may redact others' events: power levels, and creators from room version 12", () => {
    const pl = { users: { '@mod:s': 100, '@half:s': 50 }, users_default: 0, redact: 100 };
    const room = (roomVersion: string, powerLevels: Record<string, unknown> | null = pl) => ({ roomVersion, creators: ['@bot:s'], powerLevels });
    expect(mayRedactOthers('@bot:s', room('12'))).toBe(true);
    expect(mayRedactOthers('@mod:s', room('12'))).toBe(true);
    expect(mayRedactOthers('@half:s', room('12'))).toBe(false);
    expect(mayRedactOthers('@someone:s', room('12'))).toBe(false);
    // Before version 12 a creator is only as powerful as the power levels say.
    expect(mayRedactOthers('@bot:s', room('10'))).toBe(false);
    expect(mayRedactOthers('@someone:s', room('10', { redact: 0 }))).toBe(true);
    // No power levels at all: the creator alone.
    expect(mayRedactOthers('@bot:s', room('10', null))).toBe(true);
    expect(mayRedactOthers('@someone:s', room('10', null))).toBe(false);
  });
});
