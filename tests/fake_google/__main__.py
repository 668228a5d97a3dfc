"""Serve the fake over HTTP: `python -m tests.fake_google --port 8765 [--spreadsheet ID]`."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from .server import FakeGoogle


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, create the requested spreadsheets, serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_google", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--spreadsheet",
        action="append",
        default=[],
        metavar="ID",
        help="create an empty spreadsheet with this id (repeatable)",
    )
    parser.add_argument("--tabs", default="Sheet1", help="comma-separated tab titles")
    parser.add_argument("--locale", default="en_US")
    args = parser.parse_args(argv)

    fake = FakeGoogle()
    tabs = [t.strip() for t in args.tabs.split(",") if t.strip()]
    for sid in args.spreadsheet or ["fake-sheet"]:
        fake.create_spreadsheet("Strategy Hub (fake)", tabs, spreadsheet_id=sid, locale=args.locale)
        print(f"spreadsheet {sid}: tabs {', '.join(tabs)}")  # noqa: T201
    base = f"http://{args.host}:{args.port}"
    print(f"HUB_GOOGLE_API_URL={base}  (also POST {base}/v4/spreadsheets to create)")  # noqa: T201
    run_simple(args.host, args.port, fake.wsgi_app, threaded=True)


if __name__ == "__main__":
    main()
