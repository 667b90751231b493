import type { Job } from 'bullmq';
import type { CoreServices } from '../appservice/coreServices';
import { AdministratorModel, CustomerModel } from '../appservice/domain/models';
import type { Logger } from '../appservice/logger';
import type { ProvisioningJobData } from './provisioningQueue';

/**
 * What each provisioning job does. Every job reads the current record from MongoDB (the job carries
 * ids, not data), so a late or repeated job converges on the latest state and changes nothing twice.
 */
export function createProvisioningProcessor(services: CoreServices, log: Logger) {
  return async (job: Job<ProvisioningJobData>): Promise<{ matrixUserId: string } | { skipped: string }> => {
    const data = job.data;
    if (data.kind === 'customer') {
      const customer = await CustomerModel.findOne({ networkId: data.networkId, customerId: data.customerId }).lean();
      if (!customer) return { skipped: 'customer no longer exists' };
      const matrixUserId = await services.virtualUsers.ensure(
        { kind: 'customer', networkId: data.networkId, id: data.customerId },
        { displayName: customer.displayName, avatarUrl: customer.avatarUrl },
      );
      await CustomerModel.updateOne(
        { _id: customer._id, provisionedVersion: { $lt: customer.version } },
        { $set: { provisionedVersion: customer.version } },
      );
      log.debug({ jobId: job.id, matrixUserId }, 'customer provisioned');
      return { matrixUserId };
    }
    const admin = await AdministratorModel.findOne({ networkId: data.networkId, adminId: data.adminId }).lean();
    if (!admin) return { skipped: 'administrator no longer exists' };
    const matrixUserId = await services.virtualUsers.ensure(
      { kind: 'admin', networkId: data.networkId, id: data.adminId },
      { displayName: admin.displayName },
    );
    await AdministratorModel.updateOne(
      { _id: admin._id, provisionedVersion: { $lt: admin.version } },
      { $set: { provisionedVersion: admin.version } },
    );
    return { matrixUserId };
  };
}
