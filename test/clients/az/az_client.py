# Runs one az command through az_server.py (see there): `python3 az_client.py SOCKET ARGS...`.
# Prints what az would print, on the same streams, and exits with its code.

import json
import os
import socket
import sys

connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
connection.connect(sys.argv[1])
connection.sendall(json.dumps({"args": sys.argv[2:], "cwd": os.getcwd()}).encode("utf-8") + b"\n")
data = b""
while not data.endswith(b"\n"):
    chunk = connection.recv(1 << 20)
    if not chunk:
        sys.stderr.write("az_client: the az server went away\n")
        sys.exit(1)
    data += chunk
answer = json.loads(data.decode("utf-8"))
sys.stderr.write(answer["err"])
sys.stdout.write(answer["out"])
sys.exit(answer["code"])
