import { z } from 'zod';
import { NotFoundError } from '../../runtime';
import { describeJob } from '../../provisioning';
import { jobSchema } from '../responseSchemas';
import { defineRoute } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export function jobRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/jobs/:jobId',
      operationId: 'getJob',
      tag: 'jobs',
      response: jobSchema,
      summary: 'A provisioning job: state, progress (0-100), failures with their reasons (import rows), result',
      roles: ['service', 'admin', 'operator'],
      params: z.object({ jobId: z.string().min(1).max(300) }),
      handler: async ({ params, caller }) => {
        const job = await deps.queue.getJob(params.jobId);
        // Another network's job is as unknown as a missing one.
        if (!job || (caller.role !== 'operator' && job.data.networkId !== caller.networkId)) throw new NotFoundError('job');
        return describeJob(job, deps.queue.queue);
      },
    }),
  ];
}
