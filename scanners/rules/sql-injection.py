import sqlite3

import pandas as pd
import sqlalchemy
from django.contrib.auth.models import User


def find_user(conn: sqlite3.Connection, name, order, user_id):
    cur = conn.cursor()
    # ruleid: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    # ruleid: gate.python.sql-injection
    cur.execute(f"SELECT * FROM users WHERE name = '{name}'")
    # ruleid: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE name = '{}'".format(name))
    # ruleid: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE name = '" + name + "'")
    # ruleid: gate.python.sql-injection
    cur.execute("SELECT * FROM users ORDER BY " + order)
    base = "SELECT id, name FROM users"
    # ruleid: gate.python.sql-injection
    cur.execute(base + " WHERE id = " + str(user_id))
    # ruleid: gate.python.sql-injection
    conn.executescript("DELETE FROM sessions WHERE user_id = %d" % user_id)
    # ruleid: gate.python.sql-injection
    users = User.objects.raw(f"SELECT * FROM auth_user WHERE username = '{name}'")
    # ruleid: gate.python.sql-injection
    stmt = sqlalchemy.text(f"SELECT * FROM users WHERE id = {user_id}")
    # ruleid: gate.python.sql-injection
    frame = pd.read_sql("SELECT * FROM orders WHERE user = '%s'" % name, conn)
    return users, stmt, frame


def find_user_built_first(conn, name, status):
    cur = conn.cursor()
    query = "SELECT * FROM users WHERE name = '%s'" % name
    # ruleid: gate.python.sql-injection-variable
    cur.execute(query)
    query2 = f"UPDATE users SET status = '{status}' WHERE name = '{name}'"
    # ruleid: gate.python.sql-injection-variable
    cur.execute(query2)
    query3 = "DELETE FROM users WHERE name = '{}'".format(name)
    # ruleid: gate.python.sql-injection-variable
    cur.execute(query3)
    query4 = "SELECT * FROM users WHERE name = '" + name + "'"
    # ruleid: gate.python.sql-injection-variable
    cur.execute(query4)
    query5 = "SELECT * FROM users WHERE 1 = 1"
    if name:
        query5 += " AND name = '" + name + "'"
    # ruleid: gate.python.sql-injection-variable
    cur.execute(query5)


def safe(conn, name, user_id):
    cur = conn.cursor()
    # ok: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE name = %s", (name,))
    # ok: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
    # ok: gate.python.sql-injection
    cur.execute("SELECT * FROM users WHERE id = :id", {"id": user_id})
    # ok: gate.python.sql-injection
    stmt = sqlalchemy.text("SELECT * FROM users WHERE id = :id")
    query = "SELECT * FROM users WHERE name = %s"
    # ok: gate.python.sql-injection-variable
    cur.execute(query, (name,))
    query2 = "SELECT * FROM users WHERE 1 = 1"
    query2 += " AND active = 1"
    # ok: gate.python.sql-injection-variable
    cur.execute(query2)
    # ok: gate.python.sql-injection
    message = "Hello %s, welcome" % name
    # ok: gate.python.sql-injection
    cur.execute("PRAGMA foreign_keys = ON")
    return stmt, message
