import jinja2
from flask import render_template_string, request


def greet():
    name = request.args.get("name", "")
    # ruleid: gate.python.flask-render-template-string
    return render_template_string("<p>Hello " + name + "</p>")


def greet_fstring(name):
    # ruleid: gate.python.flask-render-template-string
    return render_template_string(f"<p>Hello {name}</p>")


def environments(source):
    # ruleid: gate.python.jinja2-autoescape-off
    env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"))
    # ruleid: gate.python.jinja2-autoescape-off
    plain = jinja2.Environment(autoescape=False)
    return env, plain


def fine(name):
    # ok: gate.python.flask-render-template-string
    page = render_template_string("<p>Hello {{ name }}</p>", name=name)
    # ok: gate.python.jinja2-autoescape-off
    env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"), autoescape=jinja2.select_autoescape())
    # ok: gate.python.jinja2-autoescape-off
    strict = jinja2.Environment(autoescape=True)
    return page, env, strict
