import { AppError } from '../runtime';
import { findParticipant } from '../appservice';
import type { Caller } from './auth';

/**
 * A portal token says who the caller is, not whether they still may chat: every route of a
 * customer or administrator reads their status (one lookup by `_id`, shared with the route's own access check: runtime/requestMemo). Deactivated customers and
 * removed administrators get 403 `account_deactivated` on every route, from the moment the host
 * platform says so. People the host platform has not synced yet are not refused here; the routes
 * that need them answer for themselves.
 */
export function callerStatusCheck(): (caller: Caller) => Promise<void> {
  return async (caller) => {
    if ((caller.role !== 'customer' && caller.role !== 'admin') || !caller.networkId) return;
    const person = await findParticipant({ kind: caller.role, networkId: caller.networkId, id: caller.sub });
    if (person && person.status !== 'active') throw new AccountDeactivatedError();
  };
}

export class AccountDeactivatedError extends AppError {
  constructor() {
    super('account_deactivated', 403, 'this account is deactivated');
  }
}
