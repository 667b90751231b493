import { mergeExposition, synapseEndpoint } from '../../runtime/metrics';

describe('metric labels stay bounded', () => {
  test('Synapse paths keep their words and lose their ids', () => {
    expect(synapseEndpoint('/_matrix/client/v3/rooms/!abc%3Alocalhost/send/m.room.message/5f0c2b1e-1')).toBe(
      '/_matrix/client/v3/rooms/:id/send/m.room.message/:id',
    );
    expect(synapseEndpoint('/_matrix/client/v3/profile/%40cw_c_n1_alice%3Alocalhost/displayname')).toBe('/_matrix/client/v3/profile/:id/displayname');
    expect(synapseEndpoint('/_synapse/admin/v2/users/@x:localhost?deactivated=true')).toBe('/_synapse/admin/v2/users/:id');
    expect(synapseEndpoint('/_matrix/client/v3/register')).toBe('/_matrix/client/v3/register');
    expect(synapseEndpoint('/_matrix/client/r0/rooms/$event123/state')).toBe('/_matrix/client/r0/rooms/:id/state');
  });

  test('queue exports of several queues become one family each', () => {
    const one = (queue: string) =>
      ['# HELP bullmq_job_count Number of jobs', '# TYPE bullmq_job_count gauge', `bullmq_job_count{queue="${queue}", state="waiting"} 1`].join('\n');
    const merged = mergeExposition([one('a'), one('b')].join('\n'));
    expect(merged).toBe(
      ['# HELP bullmq_job_count Number of jobs', '# TYPE bullmq_job_count gauge', 'bullmq_job_count{queue="a", state="waiting"} 1', 'bullmq_job_count{queue="b", state="waiting"} 1', ''].join('\n'),
    );
  });
});
