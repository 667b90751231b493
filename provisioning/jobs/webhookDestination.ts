import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { UnrecoverableError } from 'bullmq';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/**
 * Where a network's webhook may point. Network administrators choose the URL, so by default it must
 * not reach into the installation's own networks (Synapse's admin API, Redis, cloud metadata):
 * only globally routable unicast addresses are allowed, as ipaddr.js classifies them (a
 * maintained list of the special ranges: private, loopback, link-local, carrier-grade NAT,
 * benchmarking 198.18.0.0/15, multicast, reserved; IPv6 unique-local, NAT64 64:ff9b::/96, 6to4,
 * Teredo and the other ranges that embed or tunnel to an IPv4 address). Operators can lift this for
 * installations whose receivers live on a private network (WEBHOOK_ALLOW_PRIVATE_ADDRESSES).
 *
 * The address checked is the address connected to: the check runs inside the connection's own DNS
 * lookup (an undici dispatcher with a pinned `lookup`), so a name that resolves to a public
 * address for the check and to 127.0.0.1 a moment later (DNS rebinding) cannot slip through.
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let ip = ipaddr.parse(address);
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address it carries.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() !== 'unicast';
}

export class PrivateDestinationError extends Error {
  constructor(host: string, address: string) {
    super(`the webhook host ${host} is a private address (${address})`);
  }
}

/** A DNS lookup that answers only public addresses, and fails for a host with any private one. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) return callback(new PrivateDestinationError(hostname, blocked.address) as NodeJS.ErrnoException, '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** The dispatcher webhook deliveries connect through. */
export function webhookDispatcher(opts: { allowPrivateAddresses: boolean }): Agent {
  return new Agent(opts.allowPrivateAddresses ? {} : { connect: { lookup: publicOnlyLookup } });
}

/**
 * Refuses (for good: no retry helps) a URL whose host is a private address literal; host names are
 * checked when the dispatcher connects (above).
 */
export function assertPublicDestination(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) throw new UnrecoverableError(new PrivateDestinationError(url.hostname, host).message);
}

/** The refusal inside a failed fetch (undici wraps connection errors in `cause`). */
export function privateDestinationRefusal(err: unknown): PrivateDestinationError | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof PrivateDestinationError) return e;
  return null;
}
