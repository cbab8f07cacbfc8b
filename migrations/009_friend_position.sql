-- Order of friend list entries (owned by directory). PUT /api/friends replaces a whole list in one
-- statement, so insertion time cannot order it; GET returns entries in the order they were saved,
-- and entries added later (an accepted friend request) go to the end.
ALTER TABLE friend ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
