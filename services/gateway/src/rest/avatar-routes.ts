import { AVATAR_BODY_LIMIT } from './http-io.js';
import { AVATAR_TYPES, mediaType, sniffImageType } from './image-type.js';
import { RestError } from './problems.js';
import { directoryCall, type RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { AvatarResponse } from './schemas.js';

export function avatarRoutes(deps: RestDeps): RouteSpec[] {
  const upload: RouteSpec = {
    method: 'POST', path: '/api/users/me/avatar', operationId: 'setAvatar',
    summary: 'Upload the caller\'s avatar as raw image bytes (JPEG, PNG, WebP or GIF, at most 5 MiB)',
    auth: 'session',
    body: { kind: 'binary', contentTypes: AVATAR_TYPES, maxBytes: AVATAR_BODY_LIMIT },
    success: { 200: { description: 'stored; the previous avatar is removed', schema: AvatarResponse } },
    problems: ['unsupported-media-type', 'body-too-large'],
    async handle({ req, session, body }: RequestContext<Buffer>) {
      const declared = mediaType(req.headers['content-type']);
      if (declared?.startsWith('image/') && !(AVATAR_TYPES as readonly string[]).includes(declared)) {
        throw RestError.of('unsupported-media-type', `unsupported image type ${declared}; use ${AVATAR_TYPES.join(', ')}`);
      }
      if (body.length === 0) throw RestError.of('bad-request', 'empty image');
      const actual = sniffImageType(body);
      if (!actual) throw RestError.of('unsupported-media-type', 'the body is not a JPEG, PNG, WebP or GIF image');
      if (declared?.startsWith('image/') && declared !== actual) throw RestError.of('bad-request', `content-type says ${declared} but the image is ${actual}`);
      const res = await directoryCall(deps, 'setAvatar', { userId: session!.userId, image: body });
      return { status: 200, body: { avatar_url: res.avatarUrl, filename: res.filename } };
    },
  };

  const serve: RouteSpec = {
    method: 'GET', path: '/uploads/{name}', operationId: 'getUpload', summary: 'An uploaded avatar (no auth; served from Postgres by any replica)',
    auth: 'none',
    success: { 200: { description: 'the image', contentType: 'image/*' } },
    problems: ['forbidden', 'not-found'],
    async handle({ params }: RequestContext) {
      const name = params.name!;
      // Names are used verbatim (never percent-decoded), and only plain file names exist.
      if (name.includes('..') || name.includes('\\') || name.includes('%') || !/^[A-Za-z0-9._-]{1,128}$/.test(name)) {
        throw RestError.of('forbidden', 'invalid upload name');
      }
      const file = await directoryCall(deps, 'getUpload', { filename: name });
      return {
        status: 200,
        raw: Buffer.from(file.data),
        contentType: file.contentType || 'application/octet-stream',
        headers: { 'cache-control': 'public, max-age=31536000, immutable', 'content-security-policy': "default-src 'none'" },
      };
    },
  };
  return [upload, serve];
}
