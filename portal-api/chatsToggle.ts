import { NetworkModel } from '../appservice/domain/models';
import { NotFoundError } from '../appservice/errors';

/**
 * Rule 1, the chats toggle, as the portal sets it (operators' route and administrators' settings).
 * Nothing is deleted: turning chats back on restores every conversation as it was.
 */
export async function setChatsEnabled(networkId: string, enabled: boolean) {
  const network = await NetworkModel.findOneAndUpdate(
    { _id: networkId },
    { $set: { chatsEnabled: enabled } },
    { returnDocument: 'after' },
  ).lean();
  if (!network) throw new NotFoundError('network');
  return network;
}
