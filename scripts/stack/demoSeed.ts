/**
 * The demo network of the dev stack, created through the portal API as the host platform would:
 * two locations, members and non-members (one hiding their name on bookings), one administrator.
 */
export const DEMO_NETWORK = 'demo';

export async function seedDemoNetwork(apiUrl: string, serviceToken: string, adminToken?: string): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const res = await fetch(apiUrl + path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  };
  const n = `/v1/networks/${DEMO_NETWORK}`;
  await put(n, { name: 'Demo Coworking', communityVisibility: 'network_members' });
  await put(`${n}/locations/downtown`, { name: 'Downtown' });
  await put(`${n}/locations/harbour`, { name: 'Harbour' });
  const customers = [
    { id: 'alice', kind: 'member', displayName: 'Alice Andersen', locationIds: ['downtown'], hideNameOnBookings: false },
    { id: 'bob', kind: 'member', displayName: 'Bob Bauer', locationIds: ['downtown', 'harbour'], hideNameOnBookings: false },
    { id: 'carol', kind: 'member', displayName: 'Carol Chen', locationIds: ['harbour'], hideNameOnBookings: true },
    { id: 'dave', kind: 'nonmember', displayName: 'Dave Dubois', locationIds: [], hideNameOnBookings: false },
  ];
  // Everyone has an address at demo.test: their notification emails land in the local Mailpit.
  for (const { id, ...c } of customers) await put(`${n}/customers/${id}`, { ...c, status: 'active', email: `${id}@demo.test` });
  await put(`${n}/admins/admin-1`, { displayName: 'Erin (Community Manager)', email: 'admin-1@demo.test' });
  if (adminToken) {
    // Attachments are off until a network allows some types: the demo allows the usual ones.
    const res = await fetch(`${apiUrl}${n}/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ attachments: { allowedTypes: ['application/pdf', 'image/png', 'image/jpeg'], maxBytes: 10 * 1024 * 1024 } }),
    });
    if (!res.ok) throw new Error(`seeding the attachment policy: ${res.status} ${await res.text()}`);
  }
}
