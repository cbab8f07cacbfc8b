/** The image formats the fleet stores (avatars), with the file extension each is kept under. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;
export type ImageContentType = (typeof IMAGE_TYPES)[number];

export interface ImageType {
  contentType: ImageContentType;
  extension: 'jpg' | 'png' | 'webp' | 'gif';
}

const startsWith = (data: Uint8Array, signature: readonly number[], at = 0): boolean =>
  data.length >= at + signature.length && signature.every((byte, i) => data[at + i] === byte);
const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];

/**
 * The image type told by the file's own magic bytes, never by a label the uploader chose
 * (weakness §11.25). Undefined for anything that is not JPEG, PNG, WebP or GIF. The gateway
 * checks uploads with it before the call, and directory again before storing.
 */
export function sniffImageType(data: Uint8Array): ImageType | undefined {
  if (startsWith(data, [0xff, 0xd8, 0xff])) return { contentType: 'image/jpeg', extension: 'jpg' };
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { contentType: 'image/png', extension: 'png' };
  if (startsWith(data, ascii('GIF87a')) || startsWith(data, ascii('GIF89a'))) return { contentType: 'image/gif', extension: 'gif' };
  // RIFF container, 4-byte size, then the WEBP form type.
  if (startsWith(data, ascii('RIFF')) && startsWith(data, ascii('WEBP'), 8)) return { contentType: 'image/webp', extension: 'webp' };
  return undefined;
}
