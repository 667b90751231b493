import { uniqueId, type TestServices } from '../support/harness';

export interface CustomerSpec {
  kind?: 'member' | 'nonmember';
  displayName: string;
  locationIds?: string[];
  hideNameOnBookings?: boolean;
  status?: 'active' | 'deactivated';
}

export interface NetworkFixture {
  net: string;
  service: string;
  customer(id: string): string;
  admin(id: string): string;
}

/**
 * A fresh network set up the way the host platform does it: through the sync routes of the portal
 * API (never by writing to MongoDB directly).
 */
export async function createNetwork(
  s: TestServices,
  opts: {
    communityVisibility?: 'administrators' | 'location_members' | 'network_members';
    locations?: string[];
    customers?: Record<string, CustomerSpec>;
    admins?: Record<string, string>;
  } = {},
): Promise<NetworkFixture> {
  const net = uniqueId('net');
  const service = s.token('service', 'host-platform', net);
  await expectOk(s.api('PUT', `/v1/networks/${net}`, service, { name: 'Flex Offices', communityVisibility: opts.communityVisibility }));
  for (const lid of opts.locations ?? []) await expectOk(s.api('PUT', `/v1/networks/${net}/locations/${lid}`, service, { name: lid }));
  for (const [cid, c] of Object.entries(opts.customers ?? {})) {
    await expectOk(
      s.api('PUT', `/v1/networks/${net}/customers/${cid}`, service, {
        kind: c.kind ?? 'member',
        displayName: c.displayName,
        locationIds: c.locationIds ?? [],
        hideNameOnBookings: c.hideNameOnBookings ?? false,
        status: c.status ?? 'active',
      }),
    );
  }
  for (const [aid, name] of Object.entries(opts.admins ?? {})) {
    await expectOk(s.api('PUT', `/v1/networks/${net}/admins/${aid}`, service, { displayName: name }));
  }
  return {
    net,
    service,
    customer: (id) => s.token('customer', id, net),
    admin: (id) => s.token('admin', id, net),
  };
}

async function expectOk(res: Promise<{ status: number; body: unknown }>): Promise<void> {
  const r = await res;
  if (r.status >= 300) throw new Error(`setup call failed: ${r.status} ${JSON.stringify(r.body)}`);
}
