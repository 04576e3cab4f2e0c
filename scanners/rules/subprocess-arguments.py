import os
import subprocess
import sys


def constant_lists(path):
    # ok: gate.python.subprocess-non-constant-arguments
    subprocess.run(["git", "status", "--short"], check=True)
    # ok: gate.python.subprocess-non-constant-arguments
    subprocess.check_output(("uname", "-a"))
    # ok: gate.python.subprocess-non-constant-arguments
    subprocess.call(['less', "-R"])
    # ok: gate.python.subprocess-non-constant-arguments
    subprocess.Popen("clear")


def built_lists(name, options, env):
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.run(["git", "checkout", name], check=True)
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.run([f"--author={name}"])
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.Popen(["tar", *options])
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.call(env["PAGER"].split())
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.check_call([sys.executable, "-m", "pip"])
    # A string with an escaped quote is still one literal, but the list holds a name too.
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.run(["echo", "a\", b, \"c", name])
    # ruleid: gate.python.subprocess-non-constant-arguments
    subprocess.run(["echo", "a" + name])
    # ok: gate.python.subprocess-non-constant-arguments
    subprocess.run(f"ls {name}", shell=True)


def exec_family(program, argv):
    # ruleid: gate.python.subprocess-non-constant-arguments
    os.execvp(program, argv)
    # ruleid: gate.python.subprocess-non-constant-arguments
    os.spawnv(os.P_WAIT, program, argv)
    # ok: gate.python.subprocess-non-constant-arguments
    os.execv("/usr/bin/env", ["env"])
