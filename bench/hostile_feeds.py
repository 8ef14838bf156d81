"""What hostile feeds cost: decompression bombs (peak RSS growth), a trickling server, punctuation runs.

Each bomb is fetched in its own process (so its peak RSS is its own) from a server on 127.0.0.1
named in ``allowed_private_hosts``, with the default 2 MiB cap. Prints the CPU, then one line per
case, and writes ``bench/results/hostile_feeds.json``.

    .venv/bin/python bench/hostile_feeds.py            # 1 GiB bombs
    .venv/bin/python bench/hostile_feeds.py --gib 0.25
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import resource, sys, threading, time, zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[3])
from corpus.feeds import Fetcher, FetchFailed, FetchSettings

encoding, size = sys.argv[1], int(float(sys.argv[2]) * 2**30)
zeros = bytes(2**20)
if encoding == "zstd":
    import zstandard
    c = zstandard.ZstdCompressor(level=3).compressobj()
    bomb = b"".join([c.compress(zeros) for _ in range(size // len(zeros))] + [c.flush()])
elif encoding == "br":
    import brotli
    c = brotli.Compressor(quality=1)
    bomb = b"".join([c.process(zeros) for _ in range(size // len(zeros))] + [c.finish()])
else:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + 15 if encoding == "gzip" else 15)
    bomb = b"".join([c.compress(zeros) for _ in range(size // len(zeros))] + [c.flush()])

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(bomb)))
        self.end_headers()
        try:
            self.wfile.write(bomb)
        except OSError:
            pass
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
host = f"127.0.0.1:{server.server_address[1]}"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    Fetcher(FetchSettings(allowed_private_hosts=frozenset({host}))).get(f"http://{host}/bomb")
    outcome = "read (!)"
except FetchFailed as error:
    outcome = str(error)
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{len(bomb)}\t{(after - before) / 1024:.1f}\t{elapsed:.2f}\t{outcome}")
"""


def cpu() -> str:
    """The CPU model and the SIMD flags that matter here."""
    model, flags = platform.processor(), ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
        if line.startswith("flags"):
            wanted = ("avx2", "avx512f", "avx512_vnni", "amx_int8", "amx_bf16")
            flags = " ".join(f for f in line.split(":", 1)[1].split() if f in wanted)
            break
    return f"{model} [{flags}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=1.0, help="decoded size of each bomb, in GiB")
    args = parser.parse_args()
    print(f"CPU: {cpu()}")
    results = []
    for encoding in ("gzip", "deflate", "zstd", "br"):
        out = subprocess.run([sys.executable, "-c", _CHILD, encoding, str(args.gib), str(REPO)], capture_output=True,
                             text=True, timeout=600, check=True).stdout.strip().split("\t")
        wire, growth, seconds, outcome = int(out[0]), float(out[1]), float(out[2]), out[3]
        results.append({"encoding": encoding, "decoded_gib": args.gib, "wire_bytes": wire,
                        "peak_rss_growth_mib": growth, "seconds": seconds, "outcome": outcome})
        print(f"{encoding:8} {args.gib:g} GiB decoded from {wire:,} B on the wire: peak RSS +{growth:.1f} MiB, "
              f"{seconds:.2f} s — {outcome}")

    sys.path.insert(0, str(REPO))
    from corpus.chunking import Chunker
    from corpus.sentences import sentence_spans
    from corpus.types import Article

    for name, text in {"200,000 dots": "." * 200_000 + "x", "200,000 spaces": "ا " + " " * 200_000 + "x",
                       "100,000 '؟!'": "؟!" * 100_000 + "x"}.items():
        started = time.perf_counter()
        sentence_spans(text)
        Chunker().chunk(Article("a", "t", text))
        seconds = time.perf_counter() - started
        results.append({"text": name, "seconds": seconds})
        print(f"split + chunk {name}: {seconds:.3f} s")
    folder = REPO / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile_feeds.json").write_text(json.dumps({"cpu": cpu(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
