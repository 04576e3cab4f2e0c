"""Tests of the security helpers."""

from inventory import security


def test_password_round_trip():
    salt, digest = security.hash_password("correct horse battery staple")
    assert security.check_password("correct horse battery staple", salt, digest)


def test_tokens_differ():
    assert security.new_reset_token() != security.new_reset_token()
