"""Chaos: the fault mix of issue #16 (tests/chaos/mix.py) against several proxy processes that
share one SQLite state, many concurrent clients. Loopback only, bounded in time.

`python -m tests.chaos.harness [--processes 3] [--requests 1200] [--concurrency 32]` prints the
report (`make chaos`); tests/chaos/test_chaos.py runs a short version inside `make test`.
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from openai import OpenAI

from tests.chaos import mix


@dataclass
class Report:
    tally: mix.Tally
    processes: int
    concurrency: int
    seconds: float
    lost_transitions: int

    def lines(self) -> list[str]:
        return [
            f"{self.tally.requests} requests over {self.processes} proxy processes at "
            f"concurrency {self.concurrency} in {self.seconds:.1f} s",
            *self.tally.lines(),
            f"lost state transitions: {self.lost_transitions}",
        ]


def run(processes: int, requests: int, concurrency: int) -> Report:
    with TemporaryDirectory() as temp, mix.servers(Path(temp), processes) as running:
        clients = [
            OpenAI(base_url=f"{url}/v1", api_key="chaos", max_retries=0, timeout=60)
            for url in running.proxies
        ]
        started = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(
                pool.map(lambda n: mix.ask(clients[n % len(clients)], n), range(requests))
            )
        seconds = time.monotonic() - started
        log = mix.requests_log(running.fake)
        logs = "".join(path.read_text(errors="ignore") for path in running.logs)
    lost = logs.count("gave up recording a credential transition")
    return Report(mix.score(results, log), processes, concurrency, seconds, lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    report = run(args.processes, args.requests, args.concurrency)
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
