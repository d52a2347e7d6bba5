"""The least-privilege PostgreSQL roles of docs/deployment.md, really used: the documented SQL
run as written (names made unique to this run), the schema migrated as the owner, and a whole
flow served by a gateway connected as the application role, which cannot change the schema or
rewrite the audit trail."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.contracts.conftest import POSTGRES_URL, require_postgres
from tests.faults.servers import free_port
from tests.multi.driver import Driver
from tests.serving.operator import Fdxgw, clean_environment, write_config

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deployment"


@dataclass
class Roles:
    owner: str
    app: str
    database: str

    def url(self, role: str) -> str:
        server = POSTGRES_URL.split("@", 1)[1].rsplit("/", 1)[0]
        return f"postgresql://{role}@{server}/{self.database}"


def documented(name: str, roles: Roles) -> list[str]:
    """The file's statements, with this run's names."""
    text = (DOCS / name).read_text(encoding="utf-8")
    text = re.sub(r"\bfdxgw_owner\b", roles.owner, text)
    text = re.sub(r"\bfdxgw_app\b", roles.app, text)
    text = re.sub(r"\bfdxgw_records\b", roles.database, text)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in code.split(";") if s.strip()]


def execute(url: str, statements: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())  # the documented text, not an input


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    require_postgres()
    tag = uuid.uuid4().hex[:10]
    made = Roles(f"fdxgw_owner_{tag}", f"fdxgw_app_{tag}", f"fdxgw_test_{tag}")
    try:
        execute(POSTGRES_URL, documented("postgres-roles.sql", made))
        yield made
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {made.database} WITH (FORCE)".encode())
            admin.execute(f"DROP ROLE IF EXISTS {made.app}".encode())
            admin.execute(f"DROP ROLE IF EXISTS {made.owner}".encode())


@pytest.fixture(scope="module")
def gateway(roles: Roles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated and seeded as the owner, granted as documented, served as the app role."""
    folder = tmp_path_factory.mktemp("roles")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = write_config(
        folder,
        {"issuer": issuer, "port": port, "var_dir": "var", "notification_sweep_interval": 0},
    )
    # A hardened database: functions the owner creates are not callable by everyone, so the
    # audit's stored function works only through its documented grant.
    execute(
        roles.url(roles.owner),
        [
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {roles.owner}"
            " REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
        ],
    )
    as_owner = Fdxgw(folder, env=clean_environment(FDX_DATABASE_URL=roles.url(roles.owner)))
    for command in (("db", "migrate"), ("init",)):
        answer = as_owner.run("--config", str(config), *command)
        assert 0 == answer.returncode, answer.stderr
    execute(roles.url(roles.owner), documented("postgres-grants.sql", roles))
    as_app = Fdxgw(folder, env=clean_environment(FDX_DATABASE_URL=roles.url(roles.app)))
    try:
        as_app.start("--config", str(config), "serve", ready=issuer + "/healthz")
        yield issuer
    finally:
        as_app.kill()
        assert "InsufficientPrivilege" not in as_app.errors()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_the_application_role_serves_a_whole_flow(gateway: str, http):
    """PAR, sign-in, consent, token, reads, revocation, readiness: all as fdxgw_app."""
    driver = Driver(http, gateway)

    pushed = await driver.par()
    tokens = await driver.token(await driver.authorize(pushed), pushed)
    reads = [(await driver.fdx(tokens)).status_code for _ in range(3)]
    revoked = await driver.revoke(tokens)
    after = await driver.fdx(tokens)
    ready = await http.get(gateway + "/readyz")

    assert [200, 200, 200] == reads
    assert (200, 401, 200) == (revoked.status_code, after.status_code, ready.status_code)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM audit_events",
        "UPDATE trail SET hash = hash",
        "CREATE TABLE intruder (x int)",
        "DROP TABLE consents",
        "TRUNCATE refresh_tokens",
    ],
    ids=["delete-audit", "rewrite-trail", "create", "drop", "truncate"],
)
def test_the_application_role_cannot_change_the_schema_or_the_trail(
    roles: Roles, gateway: str, statement: str
):
    """Refused by PostgreSQL itself, whatever a compromised instance tries."""
    with psycopg.connect(roles.url(roles.app), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.encode())


def test_every_table_has_its_grants_documented(roles: Roles, gateway: str):
    """A table a migration adds must get its line in postgres-grants.sql."""
    grants = (DOCS / "postgres-grants.sql").read_text(encoding="utf-8")
    with psycopg.connect(roles.url(roles.owner)) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }

    assert set() == {t for t in tables if not re.search(rf"\bON {t} TO\b", grants)}


def test_every_function_has_its_grant_documented(roles: Roles, gateway: str):
    """A stored function a migration adds must get its EXECUTE line in postgres-grants.sql."""
    grants = (DOCS / "postgres-grants.sql").read_text(encoding="utf-8")
    with psycopg.connect(roles.url(roles.owner)) as conn:
        functions = {
            row[0]
            for row in conn.execute(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public'"
            ).fetchall()
        }

    assert functions  # the audit's, at least
    assert set() == {f for f in functions if not re.search(rf"\bFUNCTION {f}\(.*\) TO\b", grants)}
