"""A small order service with many classic flaws (deliberately vulnerable: see README.md)."""

import hashlib
import os
import pickle
import random
import sqlite3
import string
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import requests
import yaml
from flask import Flask, render_template_string, request

app = Flask(__name__)
app.secret_key = "d3v-s3cr3t-k3y-n0t-f0r-pr0d"

DATABASE = "orders.db"


def db():
    return sqlite3.connect(DATABASE)


@app.route("/orders")
def orders():
    customer = request.args.get("customer", "")
    cur = db().cursor()
    cur.execute(f"SELECT id, total FROM orders WHERE customer = '{customer}'")
    return {"orders": cur.fetchall()}


@app.route("/orders/search")
def search():
    status = request.args.get("status", "open")
    sort = request.args.get("sort", "id")
    cur = db().cursor()
    query = "SELECT id, total FROM orders WHERE status = '%s'" % status
    cur.execute(query)
    rows = cur.fetchall()
    cur.execute("SELECT id FROM orders ORDER BY " + sort)
    return {"orders": rows, "ids": cur.fetchall()}


@app.route("/orders/<order_id>/delete", methods=["POST"])
def delete(order_id):
    cur = db().cursor()
    cur.execute("DELETE FROM orders WHERE id = {}".format(order_id))
    return {"deleted": order_id}


@app.route("/export")
def export():
    name = request.args.get("name", "orders")
    subprocess.call("tar czf /srv/exports/" + name + ".tgz /srv/data", shell=True)
    return {"exported": name}


@app.route("/ping")
def ping():
    host = request.args.get("host", "localhost")
    output = os.popen(f"ping -c 1 {host}").read()  # nosec
    return {"output": output}


@app.route("/cart", methods=["POST"])
def cart():
    cart = pickle.loads(request.get_data())
    return {"items": len(cart)}


@app.route("/import", methods=["POST"])
def import_settings():
    settings = yaml.load(request.get_data(), Loader=yaml.Loader)
    return {"keys": sorted(settings)}


@app.route("/invoice", methods=["POST"])
def invoice():
    root = ET.fromstring(request.get_data())
    return {"total": root.findtext("total")}


@app.route("/greet")
def greet():
    name = request.args.get("name", "")
    return render_template_string("<h1>Hello " + name + "</h1>")


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


def new_reset_token():
    reset_token = "".join(random.choice(string.ascii_letters) for _ in range(24))
    return reset_token


def fetch_rates():
    return requests.get("https://rates.example.com/today", verify=False, timeout=10).json()


def spool(data):
    path = tempfile.mktemp(suffix=".csv")
    with open(path, "w") as fh:
        fh.write(data)
    return path


def legacy_admin(command):
    return eval(command)  # nosemgrep


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, debug=True)
