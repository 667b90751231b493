// The admin API moved to the appservice (people's names are written through it too); the
// provisioning jobs and the tests keep importing it from here.
export { SynapseAdminApi, SynapseAdminUnavailableError, SERVICE_ADMIN_LOCALPART, type RedactionStatus, type SynapseUser } from '../appservice';
