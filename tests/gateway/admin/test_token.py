"""The admin token: stored only as its hash, 0600, compared in constant time."""

from __future__ import annotations

import stat

from gateway.admin.token import AdminToken, hash_token, new_token, write_token_hash


def test_only_the_hash_is_stored_and_only_the_owner_can_read_it(tmp_path):
    """The file holds the SHA-256 hex of the token, mode 0600."""
    path = tmp_path / "var" / "admin.sha256"
    token = new_token()

    write_token_hash(path, token)

    assert token not in path.read_text()
    assert hash_token(token) + "\n" == path.read_text()
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)


def test_the_token_verifies_and_anything_else_does_not(tmp_path):
    """Right token: True; a wrong, empty or oversized one: False."""
    path = tmp_path / "admin.sha256"
    token = new_token()
    write_token_hash(path, token)
    admin = AdminToken(path)

    assert [True, False, False, False] == [
        admin.verify(token),
        admin.verify(token + "x"),
        admin.verify(""),
        admin.verify("x" * 10_000),
    ]


def test_new_tokens_are_random_and_long():
    """256 bits each; never the same twice."""
    a, b = new_token(), new_token()

    assert a != b
    assert len(a) >= 43


def test_a_file_that_is_not_a_hash_turns_the_admin_api_off(tmp_path):
    """A pasted token (not its hash) or garbage is refused, not trusted."""
    path = tmp_path / "admin.sha256"
    path.write_text("fdxadm_pasted-the-token-by-mistake\n")

    admin = AdminToken(path)

    assert (None, False) == (
        admin.stored_hash(),
        admin.verify("fdxadm_pasted-the-token-by-mistake"),
    )


def test_no_path_means_off():
    """Not configured: no hash, nothing verifies."""
    assert None is AdminToken(None).stored_hash()
