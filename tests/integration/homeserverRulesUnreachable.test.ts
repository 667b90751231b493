import { createRootLogger, UpstreamUnavailableError } from '../../runtime';
import { loadRegistration, MatrixApi, startAppservice } from '../../appservice';
import { testConfig } from '../support/harness';

/**
 * With the appservice away, Synapse cannot ask the homeserver rules: joins, invites and room
 * creation fail closed, events fail open (README › Security). The service's own client reads the
 * closed door as "unavailable, try again" (a job retries), never as a refusal that fails it for good.
 */
describe('the homeserver rules unreachable', () => {
  test('room creation is refused as unavailable; a message in an existing room still goes through', async () => {
    const config = testConfig();
    const bot = new MatrixApi(config.synapse.url, loadRegistration(config.appservice.registrationPath, { production: false }).asToken);
    const appservice = await startAppservice(config, { log: createRootLogger('warn', 'test') });
    let roomId: string;
    try {
      roomId = await bot.createRoom({ preset: 'private_chat' });
    } finally {
      await appservice.stop();
    }
    const refused = await bot.createRoom({ preset: 'private_chat' }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(UpstreamUnavailableError);
    expect((refused as UpstreamUnavailableError).upstream).toBe('appservice');
    const eventId = await bot.sendEvent(roomId, 'm.room.message', `unreachable-${Date.now()}`, { msgtype: 'm.notice', body: 'still delivered' });
    expect(eventId).toMatch(/^\$/);
  });
});
