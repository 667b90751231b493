import * as sdk from 'matrix-js-sdk';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';
import { virtualUserId } from '../../appservice/matrix/virtualUsers';
import { eventually, type BenchStack } from './benchStack';
import { AdministratorModel, CustomerModel, adminDocId, customerDocId } from '../../store';

export interface BenchNetwork {
  net: string;
  service: string;
  customer(id: string): string;
  admin(id: string): string;
  customerUserId(id: string): string;
  adminUserId(id: string): string;
}

let counter = 0;

/** A run-unique id, lowercase (it ends up in Matrix localparts). */
export function runId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * A network set up the way the host platform does it (portal sync routes), with its customers and
 * administrators provisioned on Synapse by the worker before this returns.
 */
export async function createNetwork(
  b: BenchStack,
  opts: {
    net?: string;
    communityVisibility?: 'administrators' | 'location_members' | 'network_members';
    customers?: Record<string, string>;
    admins?: Record<string, string>;
    provisionTimeoutMs?: number;
  } = {},
): Promise<BenchNetwork> {
  const net = opts.net ?? runId('net');
  const service = b.token('service', 'host-platform', net);
  await b.ok('PUT', `/v1/networks/${net}`, service, { name: `Bench ${net}`, ...(opts.communityVisibility ? { communityVisibility: opts.communityVisibility } : {}) });
  await b.ok('PUT', `/v1/networks/${net}/locations/loc-1`, service, { name: 'Downtown' });
  // Everyone at once, as a host platform syncs a network, then each one waited for: concurrent
  // provisioning in one network is what R10 checks (README, Reliability: "Concurrent provisioning").
  const timeout = opts.provisionTimeoutMs ?? 60000;
  await Promise.all([
    ...Object.entries(opts.customers ?? {}).map(([cid, name]) =>
      b.ok('PUT', `/v1/networks/${net}/customers/${cid}`, service, { kind: 'member', displayName: name, locationIds: ['loc-1'], hideNameOnBookings: false, status: 'active' }),
    ),
    ...Object.entries(opts.admins ?? {}).map(([aid, name]) => b.ok('PUT', `/v1/networks/${net}/admins/${aid}`, service, { displayName: name })),
  ]);
  for (const cid of Object.keys(opts.customers ?? {})) {
    await eventually(`provisioning of customer ${cid} of ${net}`, async () => ((await CustomerModel.findById(customerDocId(net, cid)).select({ provisionedVersion: 1 }).lean())?.provisionedVersion ?? 0) >= 1, timeout, 100);
  }
  for (const aid of Object.keys(opts.admins ?? {})) {
    await eventually(`provisioning of administrator ${aid} of ${net}`, async () => ((await AdministratorModel.findById(adminDocId(net, aid)).select({ provisionedVersion: 1 }).lean())?.provisionedVersion ?? 0) >= 1, timeout, 100);
  }
  return {
    net,
    service,
    customer: (id) => b.token('customer', id, net),
    admin: (id) => b.token('admin', id, net),
    customerUserId: (id) => virtualUserId({ kind: 'customer', networkId: net, id }, b.domain),
    adminUserId: (id) => virtualUserId({ kind: 'admin', networkId: net, id }, b.domain),
  };
}

/**
 * A matrix-js-sdk client ("any Matrix client") logged in through POST /v1/me/matrix-session and
 * syncing; `onMessage` sees every m.room.message of the timeline with the local arrival time.
 */
export async function matrixClientFor(
  b: BenchStack,
  token: string,
  onMessage?: (event: { roomId: string; body: string; eventId: string; sender: string; at: number }) => void,
): Promise<sdk.MatrixClient> {
  const session = await b.ok('POST', '/v1/me/matrix-session', token);
  const client = sdk.createClient({
    baseUrl: session.homeserverUrl,
    accessToken: session.accessToken,
    userId: session.userId,
    deviceId: session.deviceId,
    logger: quietLogger,
  });
  if (onMessage) {
    client.on(sdk.RoomEvent.Timeline, (event, room) => {
      if (event.getType() !== 'm.room.message') return;
      const at = performance.now();
      onMessage({ roomId: room?.roomId ?? '', body: String(event.getContent().body ?? ''), eventId: event.getId() ?? '', sender: event.getSender() ?? '', at });
    });
    await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
    await eventually('the Matrix client to sync', async () => client.isInitialSyncComplete(), 60000);
  }
  return client;
}

// The SDK's scheduler and call code log through its global logger, not the client's: silence it.
(sdkGlobalLogger as unknown as { setLevel(level: string): void }).setLevel('silent');

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, getChild: () => quietLogger } as unknown as NonNullable<sdk.ICreateClientOpts['logger']>;
