import { IMAGE_TYPES, sniffImageType as sniffImage, type ImageContentType } from '@commucat/storage';

/** The avatar formats accepted, by MIME type (checked by magic bytes, see @commucat/storage). */
export const AVATAR_TYPES = IMAGE_TYPES;
export type AvatarType = ImageContentType;

/** The MIME type the bytes really are (weakness §11.25: labels alone are not trusted). */
export function sniffImageType(bytes: Buffer): AvatarType | undefined {
  return sniffImage(bytes)?.contentType;
}

/** The request's media type without parameters, lower-cased; undefined when absent. */
export function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}
