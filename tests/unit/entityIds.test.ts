import { directKey, supportKey } from '../../appservice';
import { adminDocId, conversationIdForKey, customerDocId, parseDocId } from '../../store';

/** Host ids are arbitrary strings: these would collide under any naive joining of the parts. */
const TRICKY: Array<[string, string]> = [
  ['n1', 'c1'],
  ['n1,c1', ''],
  ['n1', ',c1'],
  ['n1"', 'c1'],
  ['n1', '"c1'],
  ['n1\\', '"c1'],
  ['n1/c1', 'x'],
  ['n1', 'c1/x'],
  ['n1]', 'c1'],
  ['n1', ']c1'],
  ['n1","c1', ''],
  ['', 'n1","c1'],
  ['["customer","n1","c1"]', 'c1'],
  ['ünï', 'cödé 🚀'],
  ['n1', 'C1'],
];

describe('entity ids', () => {
  test('are stable: the same parts give the ids documents already written carry', () => {
    // Stored ids must never change shape, in this process or the next: written out, not recomputed.
    expect(customerDocId('n1', 'c1')).toBe('["customer","n1","c1"]');
    expect(adminDocId('n1', 'a1')).toBe('["admin","n1","a1"]');
    expect(customerDocId('n1"', 'c1')).toBe(String.raw`["customer","n1\"","c1"]`);
    expect(adminDocId('n1\\', '"c1')).toBe(String.raw`["admin","n1\\","\"c1"]`);
    expect(customerDocId('n1","c1', '')).toBe(String.raw`["customer","n1\",\"c1",""]`);
    expect(customerDocId('ünï', 'cödé 🚀')).toBe('["customer","ünï","cödé 🚀"]');
  });

  test('are distinct for every pair of distinct parts, and customers never share an id with administrators', () => {
    const ids = TRICKY.flatMap(([n, c]) => [customerDocId(n, c), adminDocId(n, c)]);
    expect(new Set(ids).size).toBe(TRICKY.length * 2);
  });

  test('give back their network and id', () => {
    for (const [n, c] of TRICKY) {
      expect(parseDocId(customerDocId(n, c))).toEqual({ kind: 'customer', networkId: n, id: c });
      expect(parseDocId(adminDocId(n, c))).toEqual({ kind: 'admin', networkId: n, id: c });
    }
  });

  test('parseDocId is null for anything that is not a customer or administrator id', () => {
    for (const id of [undefined, null, 42, {}, 'n1', 'ch_abc', '[', '["customer","n1"]', '["customer",1,"c1"]', '["booking","n1","b1"]', '[not json]']) {
      expect(parseDocId(id)).toBeNull();
    }
  });

  test('conversationIdForKey is deterministic, distinct per key and shaped like a chat id', () => {
    const keys = [
      directKey('n1', 'a', 'b'),
      directKey('n1', 'a', 'c'),
      directKey('n2', 'a', 'b'),
      directKey('n1', 'a"', 'b'),
      directKey('n1', 'a', 'b/c'),
      directKey('n1', 'a,b', 'c'),
      directKey('n1', 'a', 'b,c'),
      supportKey('n1', 'a'),
      supportKey('n1', 'a]'),
      supportKey('n1]', 'a'),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    const ids = keys.map(conversationIdForKey);
    // Deterministic across processes: the ids conversations were stored under, written out.
    expect(ids).toEqual([
      'ch_6pk3BUO9Tp8mSD5U',
      'ch_gMjBWfboqTVO-BjK',
      'ch_TnbVf6MXXE9rnd1O',
      'ch_i2Vd-3mPZuIlsxMK',
      'ch_NVuUkyJTaJ31Wit0',
      'ch_tqa9oPrpPnFmXaVQ',
      'ch_jI3DIq67hvhyglAW',
      'ch_OU51wF78MGDQkBfS',
      'ch_WgWT_C4VAYnIIQJ0',
      'ch_zzYEIskxBCfbU1NQ',
    ]);
    expect(new Set(ids).size).toBe(keys.length);
    for (const id of ids) expect(id).toMatch(/^ch_[A-Za-z0-9_-]{16}$/);
    // The direct key is order-free, so is the conversation's id.
    expect(conversationIdForKey(directKey('n1', 'b', 'a'))).toBe(conversationIdForKey(directKey('n1', 'a', 'b')));
    expect(conversationIdForKey('support/["n1","a"]')).toBe(conversationIdForKey(supportKey('n1', 'a')));
  });
});
