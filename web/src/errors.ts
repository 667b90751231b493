import { ApiError, OfflineError } from './api/client';

/** Attachment policy, for sentences about files. */
export interface AttachmentPolicy {
  allowedTypes: string[];
  maxBytes: number;
}

const TYPE_NAMES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'text/plain': 'plain text',
  'application/zip': 'ZIP',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word (.docx)',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel (.xlsx)',
};

export function typeName(mime: string): string {
  return TYPE_NAMES[mime] ?? mime;
}

export function allowedTypesSentence(policy: AttachmentPolicy): string {
  return policy.allowedTypes.length ? policy.allowedTypes.map(typeName).join(', ') : 'none';
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** Every error of the API as a sentence a person understands (API.md's codes). */
export function errorSentence(err: unknown, policy?: AttachmentPolicy | null): string {
  if (err instanceof OfflineError) return "You're offline. Check your connection and try again.";
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  switch (err.code) {
    case 'chats_disabled':
      return 'Chats are turned off for this network.';
    case 'recipient_not_reachable':
      return "This person can't be messaged.";
    case 'unsupported_media_type':
      return policy
        ? `This type of file can't be sent here. Allowed types: ${allowedTypesSentence(policy)}.`
        : "This type of file can't be sent here.";
    case 'payload_too_large':
      return policy ? `This file is too large. The limit is ${formatBytes(policy.maxBytes)}.` : 'This file is too large.';
    case 'rate_limited':
      return `You're doing that too often. Try again in ${err.retryAfterSeconds ?? 60} seconds.`;
    case 'upstream_unavailable':
      return `The chat service is briefly unavailable. Try again in ${err.retryAfterSeconds ?? 5} seconds.`;
    case 'unauthenticated':
      return 'Your session has ended. Reload the page to sign in again.';
    case 'forbidden':
      return "You aren't allowed to do that.";
    case 'not_found':
      return "This conversation or person doesn't exist, or isn't yours to see.";
    case 'invalid_request':
      return `That wasn't accepted (${err.message}).`;
    default:
      return 'Something went wrong. Please try again.';
  }
}
