import { checkImportRows } from '../../provisioning/commands/customerImportRows';

describe('bulk import rows', () => {
  const valid = { customerId: 'c1', kind: 'member', displayName: 'Cleo Cole' };

  test('each invalid row is reported with its position and reason; the valid ones go through', () => {
    const checked = checkImportRows([
      valid,
      { customerId: 'c2', kind: 'guest', displayName: 'Gus Guest' },
      { customerId: 'c3', kind: 'member', displayName: '   ' },
      { ...valid, displayName: 'Cleo Again' },
      { customerId: 'c4', kind: 'nonmember', displayName: 'Nora', extra: true },
      42,
    ]);
    expect(checked.valid.map((r) => [r.row, r.customerId])).toEqual([[0, 'c1']]);
    expect(checked.invalid).toEqual([
      { row: 1, customerId: 'c2', reason: expect.stringMatching(/^kind: /) },
      { row: 2, customerId: 'c3', reason: expect.stringMatching(/^displayName: /) },
      { row: 3, customerId: 'c1', reason: 'customerId: duplicate of row 0' },
      { row: 4, customerId: 'c4', reason: expect.stringMatching(/^row: .*extra/) },
      { row: 5, reason: expect.stringMatching(/^row: /) },
    ]);
  });

  test('defaults as in the single-customer sync; the same content gives the same import id', () => {
    const a = checkImportRows([{ ...valid, locationIds: ['l1', 'l1'] }]);
    expect(a.valid[0]).toMatchObject({ hideNameOnBookings: false, status: 'active', locationIds: ['l1'] });
    expect(checkImportRows([{ ...valid, locationIds: ['l1', 'l1'] }]).contentHash).toBe(a.contentHash);
    expect(checkImportRows([valid]).contentHash).not.toBe(a.contentHash);
  });
});
