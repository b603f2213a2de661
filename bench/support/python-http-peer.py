"""Python fsspec's HTTP filesystem (aiohttp) as a benchmark peer, driven by bench/support/python-peer.ts.

Reads one JSON request a line on stdin and answers one JSON line on stdout, so the Node benchmark can
interleave its own runs with these ones in the same process tree and under the same load:

    {"op": "cat", "urls": [...]}          fsspec HTTPFileSystem.cat of the URLs (aiohttp under it)
    {"op": "cat_file", "url": "..."}      fsspec HTTPFileSystem.cat_file of one URL
    {"op": "aiohttp_get", "url": "..."}   a plain aiohttp session.get(url) + read(): the layer under fsspec

Answer: {"ms": <wall time of the operation>, "cpuMs": <CPU time of this process>, "bytes": <bytes read>} or {"error": "..."}.
"""
import asyncio
import json
import sys
import time

import aiohttp
import fsspec
from fsspec.asyn import sync


def main():
    fs = fsspec.filesystem("http", skip_instance_cache=True)
    session = None

    async def aiohttp_get(url):
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession()
        async with session.get(url) as r:
            return await r.read()

    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            t0 = time.perf_counter()
            c0 = time.process_time()
            if op == "cat":
                out = fs.cat(req["urls"])
                n = sum(len(v) for v in out.values())
            elif op == "cat_file":
                n = len(fs.cat_file(req["url"]))
            elif op == "aiohttp_get":
                n = len(sync(fs.loop, aiohttp_get, req["url"]))
            else:
                raise ValueError(f"unknown op {op}")
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.process_time() - c0) * 1000
            print(json.dumps({"ms": ms, "cpuMs": cpu_ms, "bytes": n}), flush=True)
        except Exception as err:  # reported to the benchmark, which fails the case
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
    if session is not None:
        sync(fs.loop, session.close)


if __name__ == "__main__":
    main()
