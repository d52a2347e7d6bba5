"""The record store's schema, as an ordered list of migrations in each SQL dialect.

Migration *n* (1-based) is ``MIGRATIONS[n - 1]`` on SQLite and ``POSTGRES_MIGRATIONS[n - 1]`` on
PostgreSQL: one logical schema (the same tables, columns and indexes), spelled twice. A release
only ever appends to both lists, never edits an entry, so every database upgrades along the same
path; a migration that exists in one dialect only fails ``tests/authz/store/test_postgres.py``
and makes the PostgreSQL store refuse to migrate (``dialect_gap``).

Each database says which schema it holds: SQLite in its header (``PRAGMA application_id`` marks
the file as ours, ``PRAGMA user_version`` counts the migrations applied), PostgreSQL in a
``schema_version`` table (one row per migration applied, with our application id). A gateway
that finds a version it does not know refuses to start instead of guessing.
"""

from __future__ import annotations

APPLICATION_ID = 0x46445847  # "FDXG"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first slice
    (
        """CREATE TABLE clients (
            client_id TEXT PRIMARY KEY,
            data      TEXT NOT NULL
        )""",
        """CREATE TABLE consents (
            id          TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            client_id   TEXT NOT NULL,
            status      TEXT NOT NULL,
            version     INTEGER NOT NULL,
            created_at  REAL NOT NULL,
            data        TEXT NOT NULL
        )""",
        "CREATE INDEX consents_customer ON consents (customer_id, created_at)",
        "CREATE INDEX consents_client ON consents (client_id, created_at)",
        """CREATE TABLE consent_events (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            consent_id TEXT NOT NULL REFERENCES consents (id),
            time       REAL NOT NULL,
            event      TEXT NOT NULL,
            actor      TEXT NOT NULL,
            reason     TEXT,
            detail     TEXT
        )""",
        "CREATE INDEX consent_events_consent ON consent_events (consent_id, time)",
        """CREATE TABLE refresh_tokens (
            token_hash TEXT PRIMARY KEY,
            consent_id TEXT NOT NULL REFERENCES consents (id),
            client_id  TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at    REAL,
            revoked_at REAL
        )""",
        "CREATE INDEX refresh_tokens_consent ON refresh_tokens (consent_id)",
        # No foreign key: the audit trail must outlive anything it mentions, and never be refused.
        # seq, not the random event id, is the key: appends stay at the B-tree's end (a random
        # text key cost ~10 µs a row on the FDX hot path), and seq is the append order.
        """CREATE TABLE audit_events (
            seq            INTEGER PRIMARY KEY,
            id             TEXT NOT NULL,
            time           REAL NOT NULL,
            consent_id     TEXT NOT NULL,
            client_id      TEXT NOT NULL,
            customer_id    TEXT NOT NULL,
            endpoint       TEXT NOT NULL,
            account_ids    TEXT NOT NULL,
            clusters       TEXT NOT NULL,
            record_count   INTEGER NOT NULL,
            status         INTEGER NOT NULL,
            interaction_id TEXT NOT NULL
        )""",
        "CREATE INDEX audit_events_consent ON audit_events (consent_id, time)",
    ),
    # 2: the audit trail (a hash chain over consent events and data accesses, authz/store/chain.py)
    # and the outbox of signed notifications to recipients (authz/notifications/)
    (
        # seq is the chain order; rows are only appended, or deleted from the start by retention.
        """CREATE TABLE trail (
            seq       INTEGER PRIMARY KEY,
            time      REAL NOT NULL,
            kind      TEXT NOT NULL,
            record    TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL
        )""",
        "CREATE INDEX trail_time ON trail (time)",
        # At most one row: the last link deleted by retention, where verification starts.
        """CREATE TABLE trail_anchor (
            id   INTEGER PRIMARY KEY CHECK (id = 1),
            seq  INTEGER NOT NULL,
            time REAL NOT NULL,
            hash TEXT NOT NULL
        )""",
        """CREATE TABLE notification_deliveries (
            id              TEXT PRIMARY KEY,
            client_id       TEXT NOT NULL,
            consent_id      TEXT NOT NULL,
            kind            TEXT NOT NULL,
            notification    TEXT NOT NULL,
            created_at      REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            dedupe_key      TEXT UNIQUE,
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_status     TEXT,
            delivered_at    REAL,
            given_up_at     REAL
        )""",
        "CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)"
        " WHERE delivered_at IS NULL AND given_up_at IS NULL",
        "CREATE INDEX notification_deliveries_consent"
        " ON notification_deliveries (consent_id, created_at)",
        # The sweeper's question ("which active consents end soon?") without a full scan.
        "CREATE INDEX consents_active_expiry ON consents (json_extract(data, '$.expires_at'))"
        " WHERE status = 'ACTIVE'",
    ),
    # 3: DPoP-bound refresh tokens (RFC 9449 §5): the thumbprint of the key they are bound to
    ("ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT",),
    # 4: who a recipient said started a revocation (FDX ConsentRevocationRequest.initiator)
    ("ALTER TABLE consent_events ADD COLUMN initiator TEXT",),
    # 5: signing keys and the session secret, shared by every instance (authz/keyring.py)
    (
        """CREATE TABLE secrets (
            id           TEXT PRIMARY KEY,
            use          TEXT NOT NULL,
            created      REAL NOT NULL,
            not_before   REAL NOT NULL,
            retire_after REAL,
            kek          TEXT NOT NULL,
            sealed       BLOB NOT NULL
        )""",
    ),
    # 6: the CFPB §1033 response rate counts a month's accesses by status (gateway/response_rate.py)
    ("CREATE INDEX audit_events_time ON audit_events (time, status)",),
    # 7: PostgreSQL links an audit batch in a stored function; SQLite links it in Python
    # (authz/store/sqlite/links.py), so it has nothing to add.
    (),
)

CURRENT_VERSION = len(MIGRATIONS)

# PostgreSQL: the same tables, columns and indexes as above, in order. Its own spellings:
# - JSON documents are ``json`` (kept as text, exactly as written, like SQLite's TEXT, and still
#   queryable with ->>), except the trail's ``record``, which is the hashed bytes: plain text;
# - times are ``double precision`` seconds, as SQLite's REAL: one data model for both;
# - SQLite's implicit ``rowid`` (the insertion order that breaks ties in listings) is spelled out
#   as an identity column where a query orders by it, and AUTOINCREMENT keys are identities.
POSTGRES_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first slice
    (
        """CREATE TABLE clients (
            client_id text PRIMARY KEY,
            data      json NOT NULL
        )""",
        """CREATE TABLE consents (
            id          text PRIMARY KEY,
            customer_id text NOT NULL,
            client_id   text NOT NULL,
            status      text NOT NULL,
            version     integer NOT NULL,
            created_at  double precision NOT NULL,
            data        json NOT NULL,
            rowid       bigint GENERATED ALWAYS AS IDENTITY
        )""",
        "CREATE INDEX consents_customer ON consents (customer_id, created_at)",
        "CREATE INDEX consents_client ON consents (client_id, created_at)",
        """CREATE TABLE consent_events (
            id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            consent_id text NOT NULL REFERENCES consents (id),
            time       double precision NOT NULL,
            event      text NOT NULL,
            actor      text NOT NULL,
            reason     text,
            detail     text
        )""",
        "CREATE INDEX consent_events_consent ON consent_events (consent_id, time)",
        """CREATE TABLE refresh_tokens (
            token_hash text PRIMARY KEY,
            consent_id text NOT NULL REFERENCES consents (id),
            client_id  text NOT NULL,
            created_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            used_at    double precision,
            revoked_at double precision
        )""",
        "CREATE INDEX refresh_tokens_consent ON refresh_tokens (consent_id)",
        """CREATE TABLE audit_events (
            seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id             text NOT NULL,
            time           double precision NOT NULL,
            consent_id     text NOT NULL,
            client_id      text NOT NULL,
            customer_id    text NOT NULL,
            endpoint       text NOT NULL,
            account_ids    json NOT NULL,
            clusters       json NOT NULL,
            record_count   integer NOT NULL,
            status         integer NOT NULL,
            interaction_id text NOT NULL
        )""",
        "CREATE INDEX audit_events_consent ON audit_events (consent_id, time)",
    ),
    # 2: the audit trail and the outbox of signed notifications to recipients
    (
        """CREATE TABLE trail (
            seq       bigint PRIMARY KEY,
            time      double precision NOT NULL,
            kind      text NOT NULL,
            record    text NOT NULL,
            prev_hash text NOT NULL,
            hash      text NOT NULL
        )""",
        "CREATE INDEX trail_time ON trail (time)",
        """CREATE TABLE trail_anchor (
            id   integer PRIMARY KEY CHECK (id = 1),
            seq  bigint NOT NULL,
            time double precision NOT NULL,
            hash text NOT NULL
        )""",
        """CREATE TABLE notification_deliveries (
            id              text PRIMARY KEY,
            client_id       text NOT NULL,
            consent_id      text NOT NULL,
            kind            text NOT NULL,
            notification    json NOT NULL,
            created_at      double precision NOT NULL,
            next_attempt_at double precision NOT NULL,
            dedupe_key      text UNIQUE,
            attempts        integer NOT NULL DEFAULT 0,
            last_status     text,
            delivered_at    double precision,
            given_up_at     double precision,
            rowid           bigint GENERATED ALWAYS AS IDENTITY
        )""",
        "CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)"
        " WHERE delivered_at IS NULL AND given_up_at IS NULL",
        "CREATE INDEX notification_deliveries_consent"
        " ON notification_deliveries (consent_id, created_at)",
        "CREATE INDEX consents_active_expiry"
        " ON consents (((data ->> 'expires_at')::double precision)) WHERE status = 'ACTIVE'",
    ),
    # 3: DPoP-bound refresh tokens (RFC 9449 §5)
    ("ALTER TABLE refresh_tokens ADD COLUMN jkt text",),
    # 4: a revocation's named initiator
    ("ALTER TABLE consent_events ADD COLUMN initiator text",),
    # 5: signing keys and the session secret
    (
        """CREATE TABLE secrets (
            id           text PRIMARY KEY,
            use          text NOT NULL,
            created      double precision NOT NULL,
            not_before   double precision NOT NULL,
            retire_after double precision,
            kek          text NOT NULL,
            sealed       bytea NOT NULL
        )""",
    ),
    # 6: the CFPB §1033 response rate's count of a month's accesses by status
    ("CREATE INDEX audit_events_time ON audit_events (time, status)",),
    # 7: an audit batch appended and linked by one prepared call (authz/store/postgres/audit.py).
    # A function's plans are kept by each session, where the same batch sent as text was parsed
    # and planned on every call: 1.0 → 0.4 ms a batch of one, and half the gateway's CPU for it.
    # Each statement of a VOLATILE function takes a new snapshot under READ COMMITTED, so the
    # head is read after the trail's lock was granted, as the chain needs (links.py). It refuses
    # any other isolation level rather than link after a stale head.
    (
        """CREATE FUNCTION fdxgw_append_audit(
            events json, links json, lock_space integer, lock_id integer, genesis text
        ) RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            at_seq bigint;
            at_hash text;
            next_hash text;
            item record;
        BEGIN
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'the audit trail is linked under READ COMMITTED only';
            END IF;
            INSERT INTO audit_events (id, time, consent_id, client_id, customer_id, endpoint,
                account_ids, clusters, record_count, status, interaction_id)
            SELECT e.id, e.time, e.consent_id, e.client_id, e.customer_id, e.endpoint,
                e.account_ids, e.clusters, e.record_count, e.status, e.interaction_id
            FROM ROWS FROM (json_to_recordset(events) AS (id text, time double precision,
                consent_id text, client_id text, customer_id text, endpoint text,
                account_ids json, clusters json, record_count integer, status integer,
                interaction_id text)) WITH ORDINALITY AS e
            ORDER BY e.ordinality;
            PERFORM pg_advisory_xact_lock(lock_space, lock_id);
            -- The chain's head: the last link, or the anchor when retention pruned them all.
            SELECT h.seq, h.hash INTO at_seq, at_hash FROM (
                SELECT a.seq, a.hash FROM trail_anchor a WHERE a.id = 1
                UNION ALL (SELECT t.seq, t.hash FROM trail t ORDER BY t.seq DESC LIMIT 1)
            ) h ORDER BY h.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                at_seq := 0;
                at_hash := genesis;
            END IF;
            -- Link i hashes the previous hash, then the link's canonical JSON, which the caller
            -- sends cut around the seq (head, tail) that only this lock holder knows.
            FOR item IN
                SELECT i.time, i.kind, i.record, i.head, i.tail
                FROM ROWS FROM (json_to_recordset(links) AS (time double precision,
                    kind text, record text, head text, tail text)) WITH ORDINALITY AS i
                ORDER BY i.ordinality
            LOOP
                at_seq := at_seq + 1;
                next_hash := encode(sha256(convert_to(
                    at_hash || item.head || at_seq::text || item.tail, 'UTF8')), 'hex');
                INSERT INTO trail (seq, time, kind, record, prev_hash, hash)
                VALUES (at_seq, item.time, item.kind, item.record, at_hash, next_hash);
                at_hash := next_hash;
            END LOOP;
        END
        $fn$""",
    ),
)

DIALECTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sqlite": MIGRATIONS,
    "postgresql": POSTGRES_MIGRATIONS,
}


def dialect_gap() -> str | None:
    """Which migrations lack a dialect (None when every dialect has every version)."""
    top = max(len(migrations) for migrations in DIALECTS.values())
    for name, migrations in DIALECTS.items():
        if len(migrations) < top:
            missing = ", ".join(str(n) for n in range(len(migrations) + 1, top + 1))
            return f"authz/store/schema.py has no {name} dialect of migration {missing}"
    return None
