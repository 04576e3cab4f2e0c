"""Exports of the inventory."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import requests

RATES_URL = "https://rates.example.com/today"


def export_items(conn: sqlite3.Connection) -> Path:
    """Write the items to a CSV file in a private temporary file."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as fh:
        writer = csv.writer(fh)
        for row in conn.execute("SELECT id, name, quantity FROM items ORDER BY id"):
            writer.writerow(row)
    return Path(fh.name)


def archive(path: Path) -> str:
    """Compress the export with the system's gzip (arguments as a list, no shell)."""
    gzip = shutil.which("gzip")
    if gzip is None:
        raise RuntimeError("gzip is not installed")
    subprocess.run([gzip, "--keep", "--force", str(path)], check=True)
    return f"{path}.gz"


def exchange_rates() -> dict[str, float]:
    """Today's rates, over verified TLS."""
    response = requests.get(RATES_URL, timeout=10)
    response.raise_for_status()
    rates: dict[str, float] = response.json()
    return rates
