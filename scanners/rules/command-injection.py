import os
import shlex
import subprocess
from subprocess import check_output


def run_user_command(user_input):
    # ruleid: gate.python.command-injection.subprocess-shell
    subprocess.call("ls " + user_input, shell=True)
    # ruleid: gate.python.command-injection.subprocess-shell
    subprocess.run(f"grep {user_input} /var/log/app.log", shell=True, check=False)
    # ruleid: gate.python.command-injection.subprocess-shell
    subprocess.Popen("tar xf %s" % user_input, shell=True)
    # ruleid: gate.python.command-injection.subprocess-shell
    check_output("echo {}".format(user_input), shell=True)
    # ruleid: gate.python.command-injection.subprocess-shell
    subprocess.run(args=user_input, shell=True)
    # With shell=True a list's first element is the shell command: a built one is injectable.
    # ruleid: gate.python.command-injection.subprocess-shell
    subprocess.run([f"ls {user_input}"], shell=True)
    # ruleid: gate.python.command-injection.os-shell
    os.system("rm -rf " + user_input)
    # ruleid: gate.python.command-injection.os-shell
    os.popen(f"cat {user_input}").read()
    # ruleid: gate.python.command-injection.os-shell
    subprocess.getoutput("ping -c 1 " + user_input)


def safe_commands(user_input):
    # ok: gate.python.command-injection.subprocess-shell
    subprocess.run(["ls", user_input], check=True)
    # ok: gate.python.command-injection.subprocess-shell
    subprocess.run("ls -l /tmp", shell=True, check=True)
    # ok: gate.python.command-injection.subprocess-shell
    subprocess.run(["ls", user_input], shell=False, check=True)
    # ok: gate.python.command-injection.subprocess-shell
    subprocess.run(shlex.split("ls -l"), check=True)
    # ok: gate.python.command-injection.subprocess-shell
    subprocess.run(["ls -l /tmp"], shell=True)
    # ok: gate.python.command-injection.os-shell
    os.system("clear")
    # ok: gate.python.command-injection.os-shell
    subprocess.getoutput("uname -a")
