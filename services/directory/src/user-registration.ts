import type { Pool } from 'pg';
import type { RegisterUserRequest, UserProfile } from '@commucat/contracts';
import { isUniqueViolation } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { isAcceptableHandle } from './handle-rules.js';
import { identityStore, toProfile, type UserRow } from './identity-store.js';
import { randomId } from './random-id.js';

const MAX_DISPLAY_NAME_LENGTH = 128;

/** CLI `register-user`: a user without devices; its first device joins by pairing. */
export class UserRegistration {
  constructor(
    private readonly pool: Pool,
    private readonly domain: string,
  ) {}

  async register(req: RegisterUserRequest): Promise<UserProfile> {
    // The same rule a Hello applies to a new handle.
    if (!isAcceptableHandle(req.handle)) throw refuse('handle_invalid', 'handle must be 1–64 characters without spaces, control characters or @');
    const displayName = req.displayName?.trim() || null;
    if (displayName !== null && displayName.length > MAX_DISPLAY_NAME_LENGTH) throw refuse('display_name_too_long', `display_name longer than ${MAX_DISPLAY_NAME_LENGTH}`);
    const user: UserRow = { userId: randomId(), handle: req.handle, domain: this.domain, displayName, avatarUrl: null };
    try {
      // One statement: the UNIQUE handle decides a race between two registrations.
      await identityStore.insertUser(this.pool, user);
    } catch (err) {
      if (isUniqueViolation(err)) throw refuse('handle_taken', 'handle already taken');
      throw err;
    }
    return toProfile(user);
  }
}
