"""HTTP endpoints of the inventory service."""

from __future__ import annotations

import json
import os
import sqlite3

import defusedxml.ElementTree as SafeET
import yaml
from flask import Flask, abort, render_template_string, request

from inventory import security, storage

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["INVENTORY_SECRET_KEY"]

# One complete statement per sort order: no SQL text is ever built from request data.
ITEMS_BY = {
    "id": "SELECT id, name, quantity FROM items WHERE name = ? ORDER BY id",
    "name": "SELECT id, name, quantity FROM items WHERE name = ? ORDER BY name",
    "quantity": "SELECT id, name, quantity FROM items WHERE name = ? ORDER BY quantity",
}
ITEM_PAGE = "<h1>{{ item.name }}</h1><p>{{ item.quantity }} in stock</p>"


def db() -> sqlite3.Connection:
    return sqlite3.connect(os.environ.get("INVENTORY_DB", "inventory.db"))


@app.route("/items")
def items() -> dict[str, object]:
    name = request.args.get("name", "")
    query = ITEMS_BY.get(request.args.get("sort", "id"), ITEMS_BY["id"])
    cur = db().cursor()
    cur.execute(query, (name,))
    return {"items": cur.fetchall()}


@app.route("/items/<int:item_id>")
def item(item_id: int) -> str:
    cur = db().cursor()
    cur.execute("SELECT name, quantity FROM items WHERE id = ?", (item_id,))
    row = cur.fetchone()
    if row is None:
        abort(404)
    return render_template_string(ITEM_PAGE, item={"name": row[0], "quantity": row[1]})


@app.route("/cart", methods=["POST"])
def cart() -> dict[str, object]:
    content = json.loads(request.get_data())
    return {"items": len(content)}


@app.route("/import", methods=["POST"])
def import_settings() -> dict[str, object]:
    settings = yaml.safe_load(request.get_data())
    return {"keys": sorted(settings)}


@app.route("/delivery-note", methods=["POST"])
def delivery_note() -> dict[str, object]:
    root = SafeET.fromstring(request.get_data())
    return {"lines": len(root.findall("line"))}


@app.route("/export", methods=["POST"])
def export() -> dict[str, object]:
    path = storage.export_items(db())
    return {"archive": storage.archive(path)}


@app.route("/password-reset", methods=["POST"])
def password_reset() -> dict[str, object]:
    return {"token_length": len(security.new_reset_token())}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), debug=os.environ.get("FLASK_DEBUG") == "1")
