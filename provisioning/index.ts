/**
 * The provisioning part's front: the queue and the named commands (use cases) that the portal
 * API's routes, the operator CLI and the tests call alike, and the worker's start.
 */
export { startProvisioningWorker, type ProvisioningWorkerHandle } from './start';
export { ProvisioningQueue, PROVISIONING_QUEUE, type ProvisioningJob, type ProvisioningJobData } from './provisioningQueue';
export { createProducerConnection, createWorkerConnection, waitUntilReady } from './redisConnection';
export { describeJob, describeQueue, retryFailedJobs, JOB_STATES, type JobView, type QueueView } from './jobStatus';
export { MatrixAccess, PORTAL_SESSION_DEVICE, type MatrixSession } from './matrixAccess';
export { SynapseAdminApi, SynapseAdminUnavailableError, SERVICE_ADMIN_LOCALPART } from './synapseAdminApi';
export { NOTIFICATION_DELIVERY_QUEUE, SIGNATURE_HEADER, signWebhookBody, standardWebhookHeaders } from './jobs/notificationDelivery';
export { EMAIL_DIGEST_QUEUE, createMailTransport } from './jobs/emailDigests';
export { signUnsubscribeToken, verifyUnsubscribeToken, type UnsubscribeCheck } from './unsubscribeLinks';

// Use cases.
export { toggleChats, queueChatsFanout } from './commands/toggleChats';
export { announceFeatures } from './commands/networkFeatures';
export * from './commands/hostSync';
export { deprovisionCustomer } from './commands/deprovisionCustomer';
export { importCustomers } from './commands/importCustomers';
export { importMatrixReports } from './commands/importMatrixReports';
export { checkImportRows, customerRowSchema, type CustomerRow, type ImportFailure } from './commands/customerImportRows';
