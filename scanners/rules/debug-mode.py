import os

import flask
from flask import Flask

app = Flask(__name__)
api = flask.Flask("api")

# ruleid: gate.python.django-debug-setting
DEBUG = True

# ruleid: gate.python.flask-debug-mode
app.config["DEBUG"] = True


def configure():
    # ok: gate.python.django-debug-setting
    DEBUG = True
    return DEBUG


class Settings:
    # ok: gate.python.django-debug-setting
    DEBUG = True


if __name__ == "__main__":
    # ruleid: gate.python.flask-debug-mode
    app.run(host="127.0.0.1", port=5000, debug=True)
    # ruleid: gate.python.flask-debug-mode
    api.debug = True
    # ok: gate.python.flask-debug-mode
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
    # ok: gate.python.flask-debug-mode
    api.run(port=8080)
