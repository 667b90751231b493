import {
  aliasNamespaceRegex,
  decodeIdPart,
  encodeIdPart,
  parseVirtualUserId,
  userNamespaceRegexes,
  virtualUserId,
} from '../../appservice/matrix/virtualUsers';

describe('virtual user ids', () => {
  test.each([
    ['net-1', 'cust-42'],
    ['Acme_Spaces', 'Customer#7'],
    ['n', 'ünïcode-ñame'],
    ['a=b', 'c_d.e'],
  ])('network %j, customer %j round-trips through a lowercase localpart', (networkId, id) => {
    const userId = virtualUserId({ kind: 'customer', networkId, id }, 'chat.example.org');
    expect(userId).toMatch(/^@[a-z0-9._=-]+:chat\.example\.org$/);
    expect(parseVirtualUserId(userId, 'chat.example.org')).toEqual({ kind: 'customer', networkId, id });
  });

  test('customers and administrators with the same id are different users', () => {
    const customer = virtualUserId({ kind: 'customer', networkId: 'n', id: 'x' }, 'd');
    const admin = virtualUserId({ kind: 'admin', networkId: 'n', id: 'x' }, 'd');
    expect(customer).not.toBe(admin);
    expect(parseVirtualUserId(admin, 'd')?.kind).toBe('admin');
  });

  test('ids that differ only by case or separators map to different users', () => {
    expect(encodeIdPart('Bob')).not.toBe(encodeIdPart('bob'));
    expect(virtualUserId({ kind: 'customer', networkId: 'a_b', id: 'c' }, 'd')).not.toBe(
      virtualUserId({ kind: 'customer', networkId: 'a', id: 'b_c' }, 'd'),
    );
    expect(decodeIdPart(encodeIdPart('A_b=C'))).toBe('A_b=C');
  });

  test('users of other servers and other namespaces are not ours', () => {
    expect(parseVirtualUserId('@cw_c_n_x:other.org', 'chat.example.org')).toBeNull();
    expect(parseVirtualUserId('@alice:chat.example.org', 'chat.example.org')).toBeNull();
    expect(parseVirtualUserId('@cw_bot:chat.example.org', 'chat.example.org')).toBeNull();
  });

  test('registration namespaces are fully anchored and match exactly our users', () => {
    const [customers, admins] = userNamespaceRegexes('chat.example.org').map((r) => new RegExp(r));
    const customer = virtualUserId({ kind: 'customer', networkId: 'N', id: 'Y' }, 'chat.example.org');
    expect(customers!.test(customer)).toBe(true);
    expect(admins!.test(customer)).toBe(false);
    expect(customers!.test(`${customer}.evil.org`)).toBe(false);
    expect(customers!.test(`@x${customer.slice(1)}`)).toBe(false);
    expect(customers!.test('@cw_c_n_y:chatxexample.org')).toBe(false);
    const alias = new RegExp(aliasNamespaceRegex('chat.example.org'));
    expect(alias.test('#cw_d_abc:chat.example.org')).toBe(true);
    expect(alias.test('#general:chat.example.org')).toBe(false);
  });
});
