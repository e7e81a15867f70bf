# The az CLI, kept running for one check script: lib.sh starts it, and its
# `azb` sends each command here (az_client.py) instead of starting az again.
# A command runs exactly as `az` runs it (azure.cli's get_default_cli().invoke,
# what /usr/bin/az does, and what azure-cli's own scenario tests use); only
# the ~0.7 s of interpreter start and command loading is paid once per script
# instead of once per command. Serves one command at a time on a Unix socket.
#
#   python3 az_server.py SOCKET

import contextlib
import io
import json
import logging
import os
import socket
import sys
import uuid

from azure.cli.core import get_default_cli

try:
    uuid.uuid1()
except ValueError:
    uuid.uuid1 = uuid.uuid4


def drop_console_handlers():
    """knack adds console handlers (bound to the stderr of the moment) on every invoke."""
    loggers = [logging.getLogger()] + [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                logger.removeHandler(handler)


def run(args, cwd):
    out, err = io.StringIO(), io.StringIO()
    os.chdir(cwd)
    drop_console_handlers()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = get_default_cli().invoke(args, out_file=out)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception as error:  # what az would print as an unexpected error
            print("The command failed with an unexpected error: %r" % (error,), file=err)
            code = 1
        finally:
            drop_console_handlers()
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def receive(connection):
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data.decode("utf-8"))


def main():
    path = sys.argv[1]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path + ".tmp")
    os.rename(path + ".tmp", path)
    server.listen(4)
    # Loading the commands once, now, so the first check does not wait for it.
    run(["batch", "--help"], os.getcwd())
    open(path + ".ready", "w").close()
    while True:
        connection, _ = server.accept()
        with connection:
            request = receive(connection)
            if request.get("stop"):
                return
            answer = run(request["args"], request["cwd"])
            connection.sendall(json.dumps(answer).encode("utf-8") + b"\n")


if __name__ == "__main__":
    main()
