-- What fdxgw_app may do in the gateway's database (docs/deployment.md, "PostgreSQL").
-- Run as fdxgw_owner in the gateway's database after every `fdxgw db migrate` (each statement
-- can be repeated): a migration that adds a table adds its line here.
-- tests/deploy/test_postgres_roles.py runs this file as written, names aside.

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO fdxgw_app;

GRANT SELECT ON schema_version TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON clients TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON consents TO fdxgw_app;
GRANT SELECT, INSERT ON consent_events TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON notification_deliveries TO fdxgw_app;
-- Recipients' notification subscriptions (a deleted one is marked, not removed).
GRANT SELECT, INSERT, UPDATE ON notification_subscriptions TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON notice_emails TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON notice_inbox TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON notice_languages TO fdxgw_app;
GRANT SELECT, INSERT, UPDATE ON deletion_requests TO fdxgw_app;
-- The audit trail is append-only for the gateway: no UPDATE, no DELETE (retention is
-- `fdxgw audit prune`, run as fdxgw_owner).
GRANT SELECT, INSERT ON audit_events TO fdxgw_app;
GRANT SELECT, INSERT ON trail TO fdxgw_app;
GRANT SELECT ON trail_anchor TO fdxgw_app;
-- The audit batch is one call of this function, which runs with the caller's rights (the two
-- INSERTs above). Only the gateway needs it, whatever a database's default for new functions.
REVOKE EXECUTE ON FUNCTION fdxgw_append_audit(json, json, integer, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fdxgw_append_audit(json, json, integer, integer, text) TO fdxgw_app;
-- Signing keys and the session secret, sealed under the key-encryption key: instances read
-- them; adding, rotating or deleting one (`fdxgw keys rotate|prune`) is the owner's, so an
-- instance cannot slip in a key of its own.
GRANT SELECT ON secrets TO fdxgw_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO fdxgw_app;
