"""moto's S3 server for the test run: prints its port, then serves until stdin closes.

Started by test/support/moto-global-setup.ts. Exiting on EOF of stdin means the server dies
with the test run, even when that run is killed (the pipe closes with the process).
"""
import logging
import sys

from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)
logging.getLogger("werkzeug").disabled = True

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()
