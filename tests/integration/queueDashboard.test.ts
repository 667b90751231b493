import { startServices, type TestServices } from '../support/harness';
import { provisioningEnv } from '../support/provisioningHelpers';

const DASHBOARD = '/v1/ops/queues/dashboard';

/** The bull-board dashboard in the operator area: operators only, by bearer token or a sign-in cookie. */
describe('queue dashboard', () => {
  let s: TestServices;

  beforeAll(async () => {
    s = await startServices(provisioningEnv());
  });
  afterAll(async () => {
    await s?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(s.baseUrl + path, { headers, redirect: 'manual' });

  test('without a token: browsers are sent to sign in, API calls get 401', async () => {
    const page = await get(`${DASHBOARD}/`, { accept: 'text/html' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(`${DASHBOARD}/login`);
    const api = await get(`${DASHBOARD}/api/queues`, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  test("other roles' tokens are refused", async () => {
    const res = await get(`${DASHBOARD}/api/queues`, { authorization: `Bearer ${s.token('admin', 'ada', 'n1')}` });
    expect(res.status).toBe(403);
  });

  test('an operator bearer token opens the dashboard and its API lists the queues', async () => {
    const auth = { authorization: `Bearer ${s.token('operator', 'ops')}` };
    const page = await get(`${DASHBOARD}/`, auth);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const api = await get(`${DASHBOARD}/api/queues?activeQueue=provisioning&status=latest&page=1`, auth);
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['provisioning', 'notification-delivery']));
  });

  test('signing in sets an HttpOnly, SameSite=Strict cookie for the dashboard only, which then opens it', async () => {
    const form = new URLSearchParams({ token: s.token('operator', 'ops') });
    const login = await fetch(`${s.baseUrl}${DASHBOARD}/login`, { method: 'POST', body: form, redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^chat_ops_dashboard=[^;]+; path=\/v1\/ops\/queues\/dashboard; expires=[^;]+; samesite=strict; httponly$/);
    const api = await get(`${DASHBOARD}/api/queues`, { cookie: cookie.split(';')[0]! });
    expect(api.status).toBe(200);

    const refused = await fetch(`${s.baseUrl}${DASHBOARD}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: s.token('service', 'host', 'n1') }),
      redirect: 'manual',
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
  });
});
