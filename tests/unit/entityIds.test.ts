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
  test('are stable: the same parts always give the same id', () => {
    for (const [n, c] of TRICKY) {
      expect(customerDocId(n, c)).toBe(customerDocId(n, c));
      expect(adminDocId(n, c)).toBe(adminDocId(n, c));
    }
    // Stored ids must never change shape: documents already written carry them.
    expect(customerDocId('n1', 'c1')).toBe('["customer","n1","c1"]');
    expect(adminDocId('n1', 'a1')).toBe('["admin","n1","a1"]');
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
    expect(keys.map(conversationIdForKey)).toEqual(ids);
    expect(new Set(ids).size).toBe(keys.length);
    for (const id of ids) expect(id).toMatch(/^ch_[A-Za-z0-9_-]{16}$/);
    // The direct key is order-free, so is the conversation's id.
    expect(conversationIdForKey(directKey('n1', 'b', 'a'))).toBe(conversationIdForKey(directKey('n1', 'a', 'b')));
    expect(conversationIdForKey('support/["n1","a"]')).toBe(conversationIdForKey(supportKey('n1', 'a')));
  });
});
