import { UnsupportedMediaTypeError } from '../../runtime';

/**
 * Rule 7: which attachments a network accepts (the size limit is enforced while the upload streams). The type is the one found in the file's content
 * (magic bytes), never the name or the declared type; a file whose content is not recognised is
 * refused, since nothing then proves it is what it claims to be.
 */
export interface AttachmentPolicy {
  allowedTypes: readonly string[];
  maxBytes: number;
}

export function checkAttachmentType(policy: AttachmentPolicy, detectedType: string | undefined): string {
  if (!detectedType) throw new UnsupportedMediaTypeError('the file type could not be recognised from its content');
  if (!policy.allowedTypes.includes(detectedType)) {
    throw new UnsupportedMediaTypeError(`files of type ${detectedType} are not accepted in this network`);
  }
  return detectedType;
}

/** Matrix message type for an accepted attachment. */
export function attachmentMsgtype(mimeType: string): 'm.image' | 'm.file' {
  return mimeType.startsWith('image/') ? 'm.image' : 'm.file';
}

/** The policy stored on a network; a network without one accepts no attachments. */
export function attachmentPolicyOf(network: { attachments?: { allowedTypes: string[]; maxBytes: number } | null }): AttachmentPolicy {
  return network.attachments ?? { allowedTypes: [], maxBytes: 0 };
}
