import { SYNAPSE_WORKER_PATHS } from '../../scripts/stack/nginxServer';

/** The scale profile's nginx (scripts/stack/nginxServer.ts): which Synapse process serves a path. */
describe('Synapse worker routing of the scale profile', () => {
  const toWorker = (path: string) => SYNAPSE_WORKER_PATHS.some((re) => new RegExp(re).test(path));

  test('client traffic goes to the generic worker', () => {
    for (const path of [
      '/_matrix/client/v3/sync',
      '/_matrix/client/v3/rooms/!abc:localhost/messages',
      '/_matrix/client/v3/rooms/!abc:localhost/send/m.room.message/t1',
      '/_matrix/client/v3/rooms/!abc:localhost/state/m.room.member/@a:localhost',
      '/_matrix/client/v3/createRoom',
      '/_matrix/client/v3/join/!abc:localhost',
      '/_matrix/client/v3/profile/@a:localhost',
      '/_matrix/client/v3/login',
      '/_matrix/client/v3/user_directory/search',
    ]) {
      expect({ path, worker: toWorker(path) }).toEqual({ path, worker: true });
    }
  });

  test('admin API, media, appservice ping and what the worker does not serve go to the main process', () => {
    for (const path of [
      '/_synapse/admin/v2/users/@a:localhost',
      '/_synapse/admin/v1/register',
      '/_matrix/media/v3/upload',
      '/_matrix/client/v1/media/download/localhost/abc',
      '/_matrix/client/v1/appservice/cw/ping',
      '/_matrix/client/v3/rooms/!abc:localhost/report/$e',
      '/health',
    ]) {
      expect({ path, worker: toWorker(path) }).toEqual({ path, worker: false });
    }
  });
});
