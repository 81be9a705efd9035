-- 0004_calllog: one row per call the CRM heard of, for its call-details and call-record
-- requests (the API, issue 12). Filled from the events in the transaction that stores them;
-- deleted store.retention after the call ended. Times are Unix milliseconds (UTC).
CREATE TABLE call_log (
    general_call_id TEXT PRIMARY KEY,
    linkedid        TEXT NOT NULL,
    call_type       INTEGER NOT NULL,               -- 0 incoming, 1 outgoing
    started_at      INTEGER NOT NULL,               -- the earliest event's time
    answered_at     INTEGER,                        -- answeredTheCall's time
    ended_at        INTEGER,                        -- hangupTheCall's time; NULL while in progress
    did_number      TEXT NOT NULL DEFAULT '',
    external_number TEXT NOT NULL DEFAULT '',
    received_number TEXT NOT NULL DEFAULT '',       -- receivedTheCall's internalNumber (group, queue or phone)
    answered_by     TEXT NOT NULL DEFAULT '',       -- answeredTheCall's internalNumber
    dst_numbers     TEXT NOT NULL DEFAULT '[]',     -- JSON list: the lines the call reached, in order
    billsec         INTEGER NOT NULL DEFAULT 0,
    disposition     TEXT NOT NULL DEFAULT '',       -- '' while in progress
    recording       TEXT NOT NULL DEFAULT '',       -- MixMonitor file as CEL names it
    trunk           TEXT NOT NULL DEFAULT '',       -- the trunk's channel name ("kyivstar")
    updated_at      INTEGER NOT NULL
) STRICT;

-- Prune by age.
CREATE INDEX call_log_ended_at ON call_log (ended_at);
-- isNewCall: an earlier call from the same number.
CREATE INDEX call_log_external_number ON call_log (external_number, started_at);
