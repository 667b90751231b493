/**
 * What every process shares: the one configuration object, logging, the error hierarchy, the HTTP
 * listener, the start/stop helpers, Redis leases, and the per-request memo of reads. Imported by every part; imports nothing of the project.
 */
export { loadConfig, ConfigError, type Config } from './config';
export { createRootLogger, setDefaultLogOutput, type Logger, type LogOutput } from './logger';
export * from './errors';
export { listen, closeServer, boundPort } from './httpServer';
export { stopOnce, atMost } from './lifecycle';
export { RedisLeases, LeaseTimeoutError, type LeaseOptions } from './redisLeases';
export { environmentKeys, renderEnvExample, type EnvironmentKey } from './config';
export {
  metrics,
  METRIC_FAMILIES,
  QUEUE_METRIC_FAMILIES,
  httpMetrics,
  synapseEndpoint,
  renderMetrics,
  reportLiveStreams,
  reportTransactionBacklog,
  reportQueueMetrics,
} from './metrics';
export { probeRoutes, probesOpenApi, startOpsListener, type ReadinessChecks } from './probes';
export { withRequestMemo, newRequestMemo, onceInRequest, startInRequest, sharedInRequest, type RequestMemo } from './requestMemo';
