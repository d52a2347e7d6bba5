-- The gateway's PostgreSQL roles and database (docs/deployment.md, "PostgreSQL").
-- Run once, as a superuser (or a role with CREATEROLE and CREATEDB), e.g. psql -f.
-- tests/deploy/test_postgres_roles.py runs this file as written, names aside.
--
-- fdxgw_owner owns the schema: `fdxgw db migrate`, `fdxgw init`, `fdxgw keys rotate|prune` and
-- `fdxgw audit prune` run as it, at deployment and from the operator's tools, never from a
-- serving instance.
-- fdxgw_app is what every instance connects as: it reads and writes records, appends to the
-- audit trail, and can neither change the schema nor rewrite or delete the trail.
-- Give both a password (or a client certificate) as the bank's PostgreSQL policy requires.

CREATE ROLE fdxgw_owner LOGIN;
CREATE ROLE fdxgw_app LOGIN;
CREATE DATABASE fdxgw_records OWNER fdxgw_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE fdxgw_records FROM PUBLIC;
GRANT CONNECT ON DATABASE fdxgw_records TO fdxgw_app;
