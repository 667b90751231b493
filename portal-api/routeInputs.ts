import { z } from 'zod';
import { ForbiddenError } from '../runtime';
import type { Actor } from '../appservice';
import type { Caller } from './auth';

/** Inputs several route files share. */

export const pageQuery = z.object({
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** The customer or administrator a token speaks for (other roles are refused). */
export function actorOf(caller: Caller): Actor {
  if (caller.role !== 'customer' && caller.role !== 'admin') throw new ForbiddenError();
  return { kind: caller.role, networkId: caller.networkId!, id: caller.sub };
}
