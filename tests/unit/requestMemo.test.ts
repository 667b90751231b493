import { newRequestMemo, onceInRequest, withRequestMemo } from '../../runtime';

/** The request memo: one read per key and request; an appservice transaction's rooms share one. */
describe('request memo', () => {
  test('runs given one memo share their reads; other requests read again; failures are not kept', async () => {
    let loads = 0;
    const read = () => onceInRequest('network:n1', async () => ++loads);
    const shared = newRequestMemo();
    const [a, b] = await Promise.all([withRequestMemo(read, shared), withRequestMemo(read, shared)]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    expect(await withRequestMemo(read)).toBe(2);
    expect(await read()).toBe(3); // outside any request: every call reads

    let attempts = 0;
    const flaky = () => onceInRequest('flaky', async () => {
      attempts++;
      if (attempts === 1) throw new Error('down');
      return 'up';
    });
    await withRequestMemo(async () => {
      await expect(flaky()).rejects.toThrow('down');
      await expect(flaky()).resolves.toBe('up');
    }, shared);
  });
});
