import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { UnrecoverableError } from 'bullmq';

/**
 * Where a network's webhook may point. Network administrators choose the URL, so by default it must
 * not reach into the installation's own networks (Synapse's admin API, Redis, cloud metadata):
 * every address the host name resolves to must be public. Operators can lift this for
 * installations whose receivers live on a private network (WEBHOOK_ALLOW_PRIVATE_ADDRESSES).
 */
const PRIVATE_NETWORKS = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_NETWORKS.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE_NETWORKS.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  return PRIVATE_NETWORKS.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** Refuses (for good: no retry helps) a URL whose host is or resolves to a private address. */
export async function assertPublicDestination(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) throw new UnrecoverableError(`the webhook host ${url.hostname} is a private address (${blocked})`);
}
