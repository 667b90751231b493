import { INBOX_HEAD_SIZE, withActivity } from '../../appservice/domain/supportInbox';
import { compareNameKey, pageAfter, type DirectoryEntry } from '../../appservice/domain/directoryCache';

const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, s));

describe('support inbox head', () => {
  test('activity moves a conversation to the front; never backwards', () => {
    const head = { entries: [{ chatId: 'a', at: at(3) }, { chatId: 'b', at: at(2) }, { chatId: 'c', at: at(1) }], complete: true };
    expect(withActivity(head, 'c', at(4))!.entries.map((e) => e.chatId)).toEqual(['c', 'a', 'b']);
    expect(withActivity(head, 'a', at(1))).toBeNull();
    expect(withActivity(head, 'a', at(3))).toBeNull();
    expect(withActivity(head, 'd', at(0))!.entries.map((e) => e.chatId)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('equal times order by id descending, as the inbox cursor does', () => {
    const head = { entries: [{ chatId: 'b', at: at(1) }], complete: true };
    expect(withActivity(head, 'c', at(1))!.entries.map((e) => e.chatId)).toEqual(['c', 'b']);
    expect(withActivity(head, 'a', at(1))!.entries.map((e) => e.chatId)).toEqual(['b', 'a']);
  });

  test('a full head keeps the newest and stops being complete; older activity stays out', () => {
    const entries = Array.from({ length: INBOX_HEAD_SIZE }, (_, i) => ({ chatId: `c${i}`, at: at(1000 - i) }));
    const grown = withActivity({ entries, complete: true }, 'new', at(2000))!;
    expect(grown.entries).toHaveLength(INBOX_HEAD_SIZE);
    expect(grown.entries[0]!.chatId).toBe('new');
    expect(grown.complete).toBe(false);
    expect(withActivity(grown, 'old', at(0))).toBeNull();
  });
});

describe('directory name order and pages', () => {
  const e = (searchName: string, customerId: string, kind: 'member' | 'nonmember' = 'member'): DirectoryEntry => ({
    customerId, searchName, displayName: searchName, kind, status: 'active', locationIds: [], hideNameOnBookings: false, matrixUserId: `@x_${customerId}:h`,
  });
  const entries = [e('ana', '2'), e('ana', '1'), e('bob', '3', 'nonmember'), e('zoë', '4'), e('chloé', '5')].sort(compareNameKey);

  test('sorted by name then id', () => {
    expect(entries.map((x) => x.customerId)).toEqual(['1', '2', '3', '5', '4']);
  });

  test('pages continue strictly after the cursor, filtered, with "more" only when more follow', () => {
    const first = pageAfter(entries, null, 2, () => true);
    expect(first.items.map((x) => x.customerId)).toEqual(['1', '2']);
    expect(first.more).toBe(true);
    const second = pageAfter(entries, first.items[1]!, 2, (x) => x.kind === 'member');
    expect(second.items.map((x) => x.customerId)).toEqual(['5', '4']);
    expect(second.more).toBe(false);
    expect(pageAfter(entries, { searchName: 'zoë', customerId: '4' }, 5, () => true)).toEqual({ items: [], more: false });
    // A cursor between entries (its customer gone meanwhile) still lands on the next one.
    expect(pageAfter(entries, { searchName: 'b', customerId: '9' }, 1, () => true).items[0]!.customerId).toBe('3');
  });
});
