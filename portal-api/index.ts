/**
 * The portal API's front: its start, and what the operator CLI and the tests share with it
 * (tokens, the health check).
 */
export { startPortalApi, type PortalApiHandle } from './start';
export { mintToken, verifyBearer, ROLES, type Role, type Caller } from './auth';
export { checkHealth, type ComponentHealth } from './healthCheck';
export type { PortalDeps } from './portalDeps';
export { portalOpenApiDocument } from './app';
