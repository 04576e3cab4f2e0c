import ssl

import httpx
import requests
import urllib3


def fetch(url):
    # ruleid: gate.python.tls-verification-off
    r = requests.get(url, verify=False, timeout=10)
    # ruleid: gate.python.tls-verification-off
    requests.post(url, json={"a": 1}, verify=False, timeout=10)
    session = requests.Session()
    # ruleid: gate.python.tls-verification-off
    session.verify = False
    # ruleid: gate.python.tls-verification-off
    session.get(url, verify=False)
    # ruleid: gate.python.tls-verification-off
    client = httpx.Client(verify=False)
    # ruleid: gate.python.tls-verification-off
    ctx = ssl._create_unverified_context()
    other = ssl.create_default_context()
    # ruleid: gate.python.tls-verification-off
    other.check_hostname = False
    # ruleid: gate.python.tls-verification-off
    other.verify_mode = ssl.CERT_NONE
    # ruleid: gate.python.tls-verification-off
    pool = urllib3.PoolManager(cert_reqs="CERT_NONE")
    return r, client, ctx, pool


def fine(url):
    # ok: gate.python.tls-verification-off
    r = requests.get(url, timeout=10)
    # ok: gate.python.tls-verification-off
    r2 = requests.get(url, verify="/etc/ssl/private-ca.pem", timeout=10)
    # ok: gate.python.tls-verification-off
    ctx = ssl.create_default_context(cafile="/etc/ssl/private-ca.pem")
    # ok: gate.python.tls-verification-off
    ctx.verify_mode = ssl.CERT_REQUIRED
    # ok: gate.python.tls-verification-off
    client = httpx.Client(verify=ctx)
    return r, r2, client
