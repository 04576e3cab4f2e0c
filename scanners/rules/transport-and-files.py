import os
import ssl
import stat
import tarfile

import paramiko


def connect(host, sock):
    # ruleid: gate.python.insecure-tls-version
    legacy = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
    # ruleid: gate.python.insecure-tls-version
    wrapped = ssl.wrap_socket(sock)
    client = paramiko.SSHClient()
    # ruleid: gate.python.ssh-auto-add-host-key
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    # ok: gate.python.ssh-auto-add-host-key
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    # ok: gate.python.insecure-tls-version
    modern = ssl.create_default_context()
    # ok: gate.python.insecure-tls-version
    modern.minimum_version = ssl.TLSVersion.TLSv1_2
    return legacy, wrapped, modern


def unpack(upload, dest):
    tar = tarfile.open(upload)
    # ruleid: gate.python.tar-extract-without-filter
    tar.extractall(dest)
    with tarfile.open(upload) as archive:
        # ruleid: gate.python.tar-extract-without-filter
        archive.extractall(path=dest)
        # ok: gate.python.tar-extract-without-filter
        archive.extractall(path=dest, filter="data")


def permissions(path):
    # ruleid: gate.python.world-writable-permissions
    os.chmod(path, 0o777)
    # ruleid: gate.python.world-writable-permissions
    os.makedirs(path, 0o776, exist_ok=True)
    # ruleid: gate.python.world-writable-permissions
    os.chmod(path, stat.S_IRWXU | stat.S_IWOTH)
    # ok: gate.python.world-writable-permissions
    os.chmod(path, 0o640)
    # ok: gate.python.world-writable-permissions
    os.chmod(path, 0o755)
    # ok: gate.python.world-writable-permissions
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
