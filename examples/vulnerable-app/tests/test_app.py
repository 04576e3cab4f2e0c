"""Tests of the sample (test code: the gate warns about findings here, never blocks on them)."""

import requests

from app import hash_password


def test_hash_is_stable():
    assert hash_password("a") == hash_password("a")


def test_local_service():
    response = requests.get("https://localhost:8443/health", verify=False, timeout=5)
    assert response.status_code == 200
