import flask
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def after_logout(request):
    # ruleid: gate.python.open-redirect
    return redirect(request.GET.get("next", "/"))


def after_login():
    # ruleid: gate.python.open-redirect
    return flask.redirect(flask.request.args["next"])


def checked(request):
    target = request.GET.get("next", "/")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        # ok: gate.python.open-redirect
        return redirect(request.GET.get("next", "/"))
    # ok: gate.python.open-redirect
    return redirect("/home/")
