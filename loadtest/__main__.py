"""``python -m loadtest run|compare``: the benchmark of the live path (see docs/benchmark.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtest.scenarios import SCENARIOS, RunOptions, run
from loadtest.sessions import FLAVOURS_DIR, SetupError


def _pids(raw: str | None) -> list[int]:
    return [int(p) for p in raw.split(",") if p.strip()] if raw else []


def _add_load_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", choices=SCENARIOS, default="fanout")
    p.add_argument("--rooms", type=int, default=20, help="aantal kamers")
    p.add_argument("--subscribers", type=int, default=100, help="abonnees per kamer")
    p.add_argument("--publishers", type=int, default=1, help="publishers per kamer (standaard 1)")
    p.add_argument("--duration", type=float, default=10.0, help="duur van de meting in seconden")
    p.add_argument("--rate", type=float, default=8000.0, help="fixed-rate: afleveringen per seconde in totaal")
    p.add_argument("--connections", type=int, default=1000, help="idle: aantal verbindingen")
    p.add_argument("--processes", type=int, default=1, help="aantal processen van de loadgenerator")
    p.add_argument("--flavour", default=None, help="neem kamers uit deze flavour (standaard: alle)")
    p.add_argument("--sessions", type=int, default=100, help="gastsessies die abonnees delen (standaard 100)")
    p.add_argument("--flavours-dir", type=Path, default=FLAVOURS_DIR,
                   help="flavour-bestanden van de server (voor de kamers), standaard ./flavours")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="één scenario tegen een draaiende server")
    r.add_argument("--url", default="http://127.0.0.1:8000")
    _add_load_options(r)
    r.add_argument("--target", choices=("chatserver", "socketio", "starlette", "bare"), default="chatserver",
                   help="wat voor server er op --url draait")  # fmt: skip
    r.add_argument("--server-pid", default=None, help="pid(s) van de serverprocessen, komma-gescheiden")
    r.add_argument("--redis-pid", default=None)
    r.add_argument("--db-pid", default=None)
    r.add_argument("--json", type=Path, default=None, help="schrijf het rapport hierheen (PNG ernaast)")
    r.add_argument("--no-plot", action="store_true")
    r.add_argument("--quiet", action="store_true")

    c = sub.add_parser("compare", help="hetzelfde scenario tegen onze server en de referentieservers")
    _add_load_options(c)
    c.add_argument("--url", default=None, help="gebruik deze draaiende chatserver in plaats van er een te starten")
    c.add_argument("--peers", default="socketio,starlette",
                   help="referenties: socketio, starlette, bare (komma-gescheiden)")  # fmt: skip
    c.add_argument("--repeat", type=int, default=1, help="herhaal elke meting; de mediaan telt")
    c.add_argument("--out", type=Path, default=Path("var/loadtest"), help="map voor de JSON-rapporten")
    c.add_argument("--workers", type=int, default=1, help="serverprocessen van de gestarte chatserver")
    c.add_argument("--cluster", action="store_true",
                   help="meet ook een chatserver op een Redis Cluster van drie nodes (sharded pub/sub)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            report = run(
                RunOptions(
                    url=args.url,
                    scenario=args.scenario,
                    rooms=args.rooms,
                    subscribers=args.subscribers,
                    publishers=args.publishers,
                    duration_s=args.duration,
                    rate=args.rate,
                    connections=args.connections,
                    processes=args.processes,
                    target=args.target,
                    flavour=args.flavour,
                    sessions=args.sessions,
                    flavours_dir=args.flavours_dir,
                    server_pids=_pids(args.server_pid),
                    redis_pids=_pids(args.redis_pid),
                    db_pids=_pids(args.db_pid),
                    json_path=args.json,
                    plot=not args.no_plot,
                    quiet=args.quiet,
                )
            )
            print(json.dumps(report, indent=2))
            return 0
        from loadtest.compare import compare

        return compare(args)
    except SetupError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
