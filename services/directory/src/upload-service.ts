import type { Pool } from 'pg';
import { blake3 } from '@commucat/crypto';
import type { GetUploadRequest, GetUploadResponse, SetAvatarRequest, SetAvatarResponse } from '@commucat/contracts';
import { pgErrorCode, sniffImageType, withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { identityStore } from './identity-store.js';

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const UPLOADS_PATH = '/uploads';
const FOREIGN_KEY_VIOLATION = '23503';

/** POST /api/users/me/avatar and GET /uploads/{name}, with the images kept in Postgres. */
export class UploadService {
  constructor(private readonly pool: Pool) {}

  /**
   * Stores the image under a content-addressed name (16 hex of BLAKE3, as the reference names
   * files), points the user's avatar at it and deletes the previous image unless another user
   * still shows it.
   */
  async setAvatar(req: SetAvatarRequest): Promise<SetAvatarResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const data = Buffer.from(req.image);
    if (data.length > MAX_IMAGE_BYTES) throw refuse('image_too_large', `images are limited to ${MAX_IMAGE_BYTES} bytes`);
    const type = sniffImageType(data);
    if (!type) throw refuse('image_type_unsupported', 'only JPEG, PNG, WebP and GIF images are accepted');
    const filename = `${blake3(data).subarray(0, 8).toString('hex')}.${type.extension}`;
    const avatarUrl = `${UPLOADS_PATH}/${filename}`;

    await withTransaction(this.pool, async (db) => {
      if (!(await identityStore.lockUser(db, req.userId))) throw refuse('user_not_found', 'unknown user');
      // DO UPDATE (not NOTHING) locks an existing row, so a concurrent cleanup cannot delete it under us.
      await db.query(
        `INSERT INTO upload (filename, content_type, data) VALUES ($1, $2, $3)
         ON CONFLICT (filename) DO UPDATE SET content_type = EXCLUDED.content_type`,
        [filename, type.contentType, data],
      );
      const previous = await db.query<{ filename: string }>('SELECT filename FROM user_avatar WHERE user_id = $1', [req.userId]);
      await db.query(
        `INSERT INTO user_avatar (user_id, filename) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET filename = EXCLUDED.filename, updated_at = now()`,
        [req.userId, filename],
      );
      await db.query('UPDATE app_user SET avatar_url = $2, updated_at = now() WHERE user_id = $1', [req.userId, avatarUrl]);
      const old = previous.rows[0]?.filename;
      if (old !== undefined && old !== filename) {
        // Another user may have just chosen the same picture; then their reference keeps it.
        await db.query('SAVEPOINT drop_previous_avatar');
        try {
          await db.query('DELETE FROM upload u WHERE u.filename = $1 AND NOT EXISTS (SELECT 1 FROM user_avatar a WHERE a.filename = u.filename)', [old]);
          await db.query('RELEASE SAVEPOINT drop_previous_avatar');
        } catch (err) {
          if (pgErrorCode(err) !== FOREIGN_KEY_VIOLATION) throw err;
          await db.query('ROLLBACK TO SAVEPOINT drop_previous_avatar');
        }
      }
    });
    return { avatarUrl, filename };
  }

  async get(req: GetUploadRequest): Promise<GetUploadResponse> {
    const name = req.filename;
    if (!name || name.includes('/') || name.includes('\\') || name.includes('..')) throw refuse('upload_name_forbidden', 'forbidden');
    const { rows } = await this.pool.query('SELECT content_type, data FROM upload WHERE filename = $1', [name]);
    if (!rows[0]) throw refuse('upload_not_found', 'no such upload');
    return { contentType: rows[0].content_type, data: rows[0].data };
  }
}
