-- 0001_init: celbridge's local state. Times are Unix milliseconds (UTC) in INTEGER columns.

-- checkpoint is the restart point: CEL rows with id > cursor are read after a restart.
CREATE TABLE checkpoint (
    id         INTEGER PRIMARY KEY CHECK (id = 1), -- a single row
    cursor     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- calls are the open and recent calls, for restart, status and explain.
CREATE TABLE calls (
    linkedid        TEXT PRIMARY KEY,
    general_call_id TEXT NOT NULL,
    call_type       INTEGER NOT NULL,               -- 0 incoming, 1 outgoing
    did_number      TEXT NOT NULL DEFAULT '',
    external_number TEXT NOT NULL DEFAULT '',
    internal_number TEXT NOT NULL DEFAULT '',
    first_cel_id    INTEGER NOT NULL,
    last_cel_id     INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,                        -- set exactly when closed
    CHECK ((state = 'closed') = (ended_at IS NOT NULL))
) STRICT;

CREATE INDEX calls_general_call_id ON calls (general_call_id);
-- status counts open calls; prune deletes closed calls by age.
CREATE INDEX calls_state_ended_at ON calls (state, ended_at);

-- outbox is every event for the CRM, delivered strictly in id order within a call.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- emission order; never reused
    general_call_id TEXT NOT NULL,
    linked_id       TEXT NOT NULL REFERENCES calls (linkedid),
    request_type    TEXT NOT NULL,
    seq             INTEGER NOT NULL DEFAULT 0,
    idem_key        TEXT NOT NULL UNIQUE,              -- the Idempotency-Key header
    payload         TEXT NOT NULL,                     -- JSON of celbridge.Event
    cel_id          INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- head is 1 exactly on the lowest-id row of its call that is not delivered. The store keeps
    -- it up to date on insert and on delivery so that Due reads one small index range instead
    -- of grouping every undelivered row.
    head            INTEGER NOT NULL CHECK (head IN (0, 1)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,        -- 0: as soon as possible
    delivered_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    last_error_at   INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (general_call_id, request_type, seq)        -- also serves lookups by call
) STRICT;

-- Due: the due heads, in next_attempt_at then id order.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE head = 1 AND state = 'pending';
-- Stats: counts by state, oldest pending row.
CREATE INDEX outbox_state_created_at ON outbox (state, created_at);
-- Stats (delivered today) and Prune.
CREATE INDEX outbox_delivered_at ON outbox (delivered_at) WHERE state = 'delivered';
-- Stats: the last error.
CREATE INDEX outbox_last_error_at ON outbox (last_error_at) WHERE last_error_at IS NOT NULL;
-- The foreign key (deleting calls) and Call.
CREATE INDEX outbox_linked_id ON outbox (linked_id, id);
