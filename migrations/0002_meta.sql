-- 0002_meta: named values the store keeps about itself.

-- meta holds one text value per name: first_start_at (RFC 3339) and first_start_cursor, written
-- with the first checkpoint, and state the poller keeps across restarts.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
