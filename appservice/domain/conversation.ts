import type { ConversationDoc } from '../../store';

/** Who is acting: a customer or an administrator of a network. */
export interface Actor {
  kind: 'customer' | 'admin';
  networkId: string;
  id: string;
}

/** A direct or support conversation as stored (its room, participants, last message). */
export type Conversation = ConversationDoc & { _id: string };

/** direct: "direct/<network>/<a>/<b>" with a < b: one conversation per pair, whoever starts it. */
export function directKey(networkId: string, a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `direct/${JSON.stringify([networkId, x, y])}`;
}

/** support: one conversation per (network, customer) with the network's administrators. */
export function supportKey(networkId: string, customerId: string): string {
  return `support/${JSON.stringify([networkId, customerId])}`;
}
