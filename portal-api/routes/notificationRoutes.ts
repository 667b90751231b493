import { z } from 'zod';
import { InvalidRequestError } from '../../runtime';
import type { Actor } from '../../appservice';
import { defineRoute } from '../routeTable';
import type { PortalDeps } from '../portalDeps';
import { actorOf } from '../routeInputs';
import { AdministratorModel, adminDocId, findAdministrator, findNotificationSettings, setChatMuted, updateNotificationSettings, type NotificationSettingsDoc } from '../../store';

/** Notification preferences (README "Notifications"): email batching, muted conversations, and an administrator's in-app and webhook switches. */

const chatParams = z.object({ chatId: z.string().regex(/^ch_[A-Za-z0-9_-]{16}$/, 'not a chat id') });
export const DELAY_MINUTES = z.number().int().min(1).max(1440);

const settingsResponse = z.object({
  email: z.object({ address: z.string().nullable(), enabled: z.boolean(), delayMinutes: z.number() }),
  mutedChats: z.array(z.string()),
  inApp: z.boolean().optional().describe('administrators only'),
  webhook: z.boolean().optional().describe('administrators only'),
});

async function settingsView(actor: Actor, settings: NotificationSettingsDoc) {
  const base = {
    email: { address: settings.email ?? null, enabled: settings.emailEnabled !== false, delayMinutes: settings.delayMinutes ?? 10 },
    mutedChats: settings.mutedChatIds ?? [],
  };
  if (actor.kind !== 'admin') return base;
  const admin = await findAdministrator(actor.networkId, actor.id);
  return { ...base, inApp: admin?.notifications?.inApp !== false, webhook: admin?.notifications?.webhook !== false };
}

export function notificationRoutes(deps: PortalDeps) {
  const { conversations } = deps.services;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/notification-settings',
      operationId: 'getNotificationSettings',
      tag: 'me',
      summary: "The caller's notification settings: batched email (address from host sync, on/off, delay) and muted chats; administrators also inApp and webhook",
      roles: ['customer', 'admin'],
      response: settingsResponse,
      handler: async ({ caller }) => {
        const actor = actorOf(caller);
        return settingsView(actor, await findNotificationSettings(actor.networkId, actor.kind, actor.id));
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/v1/me/notification-settings',
      operationId: 'updateNotificationSettings',
      tag: 'me',
      summary: 'Change notification settings (fields left out stay); delayMinutes 1-1440; inApp and webhook for administrators only',
      roles: ['customer', 'admin'],
      body: z.strictObject({
        email: z.strictObject({ enabled: z.boolean().optional(), delayMinutes: DELAY_MINUTES.optional() }).optional(),
        mutedChats: z.array(chatParams.shape.chatId).max(10000).optional(),
        inApp: z.boolean().optional(),
        webhook: z.boolean().optional(),
      })
        .refine((b) => Object.keys(b).length > 0 && (b.email === undefined || Object.keys(b.email).length > 0), { message: 'nothing to change' }),
      response: settingsResponse,
      handler: async ({ caller, body }) => {
        const actor = actorOf(caller);
        if (actor.kind !== 'admin' && (body.inApp !== undefined || body.webhook !== undefined)) {
          throw new InvalidRequestError(body.inApp !== undefined ? 'inApp' : 'webhook', 'only administrators have in-app and webhook notifications');
        }
        if (actor.kind === 'admin' && (body.inApp !== undefined || body.webhook !== undefined)) {
          await AdministratorModel.updateOne(
            { _id: adminDocId(actor.networkId, actor.id) },
            { $set: { ...(body.inApp !== undefined ? { 'notifications.inApp': body.inApp } : {}), ...(body.webhook !== undefined ? { 'notifications.webhook': body.webhook } : {}) } },
          );
        }
        const settings = await updateNotificationSettings(actor.networkId, actor.kind, actor.id, {
          emailEnabled: body.email?.enabled,
          delayMinutes: body.email?.delayMinutes,
          mutedChatIds: body.mutedChats,
        });
        return settingsView(actor, settings);
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/chats/:chatId/mute',
      operationId: 'muteChat',
      tag: 'chats',
      summary: 'Mute (or unmute) one conversation for the caller: no notification emails for it',
      roles: ['customer', 'admin'],
      params: chatParams,
      body: z.strictObject({ muted: z.boolean() }),
      response: z.object({ chatId: z.string(), muted: z.boolean() }),
      handler: async ({ caller, params, body }) => {
        const actor = actorOf(caller);
        const conversation = await conversations.openForParticipant(params.chatId, actor);
        await setChatMuted(actor.networkId, actor.kind, actor.id, conversation._id, body.muted);
        return { chatId: conversation._id, muted: body.muted };
      },
    }),
  ];
}
