import { z } from 'zod';
import { adminDocId } from '../../appservice/domain/entityIds';
import { AdministratorModel } from '../../appservice/domain/models';
import { NotFoundError } from '../../appservice/errors';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export function adminMembershipRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'delete',
      path: '/v1/networks/:nid/admins/:aid',
      summary:
        "Remove an administrator (202 {jobId}): they lose access at once, and a job removes them from the network's support rooms",
      roles: ['service', 'operator'],
      status: 202,
      params: z.object({ nid: hostIdSchema, aid: hostIdSchema }),
      handler: async ({ params }) => {
        const key = { _id: adminDocId(params.nid, params.aid) };
        const before = await AdministratorModel.findById(key._id).lean();
        if (!before) throw new NotFoundError('administrator');
        // Removing twice queues one job: the version only moves when the status does.
        const admin =
          before.status === 'removed'
            ? before
            : await AdministratorModel.findOneAndUpdate(key, { $set: { status: 'removed' }, $inc: { version: 1 } }, { returnDocument: 'after' }).lean();
        const jobId = await deps.queue.provisionAdmin(params.nid, params.aid, admin!.version);
        return { jobId, networkId: params.nid, adminId: params.aid, status: 'removed' };
      },
    }),
  ];
}
