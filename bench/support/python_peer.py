"""
A long-lived Python process the benchmarks time their peers in, one run at a time, so Python
rounds interleave with the Node ones. One JSON object a line on stdin, one answer a line on
stdout:
  {"probe": "pyarrow"}                           -> {"ok": true} when the module imports
  {"define": name, "setup": code, "expr": code}  -> {"ok": true} (setup runs once, at once)
  {"run": name}                                  -> {"ms": elapsed, "size": len(result) or None}
Garbage is collected before each timed run, as the Node side does.
"""
import gc
import importlib
import json
import sys
import time
import traceback

cases = {}

def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

for line in sys.stdin:
    msg = json.loads(line)
    try:
        if "probe" in msg:
            try:
                importlib.import_module(msg["probe"])
                answer({"ok": True})
            except ImportError as err:
                answer({"ok": False, "error": str(err)})
        elif "define" in msg:
            scope = {}
            exec(msg["setup"], scope)
            cases[msg["define"]] = (compile(msg["expr"], msg["define"], "eval"), scope)
            answer({"ok": True})
        elif "run" in msg:
            code, scope = cases[msg["run"]]
            gc.collect()
            t0 = time.perf_counter()
            result = eval(code, scope)
            ms = (time.perf_counter() - t0) * 1000
            size = len(result) if hasattr(result, "__len__") else result if isinstance(result, (int, float)) else None
            answer({"ms": ms, "size": size})
    except Exception:
        answer({"error": traceback.format_exc()})
