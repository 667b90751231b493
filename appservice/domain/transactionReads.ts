import { onceInRequest } from '../../runtime';
import { activeAdministrators, administratorRoster, findCustomer, findNetwork, findNotificationSettings, type AdministratorDoc, type CustomerDoc, type NetworkDoc, type NotificationSettingsDoc, type PersonKind } from '../../store';

/**
 * Reads the event handlers of one appservice transaction share (transactionProcessor.ts runs each
 * transaction's rooms in one request memo): what no event changes — the network (chats switch,
 * attachment policy, notification defaults), its administrators, a person's status and
 * notification settings — read once per transaction instead of once per event. Every event of a
 * transaction was sent before Synapse pushed it, and these reads are made after the push, so none
 * is older than the events it judges (a rule that depends on when something changed, like
 * chats-off's `chatsToggledAt`, compares with the event's own time). Outside a transaction each
 * call reads.
 */
export function networkOfTransaction(networkId: string): Promise<NetworkDoc | null> {
  return onceInRequest(`network:${networkId}`, () => findNetwork(networkId));
}

export function administratorsOfTransaction(networkId: string): Promise<AdministratorDoc[]> {
  return onceInRequest(`administrators:${networkId}`, () => activeAdministrators(networkId));
}

/** Every administrator id the network ever had (administrator_rosters). */
export function administratorRosterOfTransaction(networkId: string): Promise<string[]> {
  return onceInRequest(`administrator-roster:${networkId}`, () => administratorRoster(networkId));
}

export function customerOfTransaction(networkId: string, customerId: string): Promise<CustomerDoc | null> {
  return onceInRequest(`customer:${networkId}:${customerId}`, () => findCustomer(networkId, customerId));
}

export function notificationSettingsOfTransaction(networkId: string, kind: PersonKind, id: string): Promise<NotificationSettingsDoc> {
  return onceInRequest(`notification-settings:${networkId}:${kind}:${id}`, () => findNotificationSettings(networkId, kind, id));
}
