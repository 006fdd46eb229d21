"""Write the current fan-out tables of docs/PERFORMANCE.md from docs/benchmarks/fanout.json.

    .venv/bin/python -m bench.report            # rewrite the block between the markers
    .venv/bin/python -m bench.report --check    # exit 1 if the block is not what the JSON gives

The block between `<!-- fanout-table:start -->` and `<!-- fanout-table:end -->`
is a line naming the run (date, command, commit when the JSON has one,
machine) and bench/fanout.py's own summary tables of it; the rest of the
document is prose and is left alone.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.fanout import REPO_ROOT, summary

START = "<!-- fanout-table:start -->"
END = "<!-- fanout-table:end -->"
COMMAND = ".venv/bin/python -m bench.report"
DEFAULT_JSON = REPO_ROOT / "docs" / "benchmarks" / "fanout.json"
DEFAULT_DOC = REPO_ROOT / "docs" / "PERFORMANCE.md"


def provenance(report: dict) -> str:
    """One line saying which run the tables come from."""
    command = report["command"].strip()
    # bench/fanout.py records its arguments after the module name; none means make bench's defaults.
    defaults = " (all defaults, as `make bench` runs it)" if command == "python -m bench.fanout" else ""
    commit = f", at commit {report['commit']}" if report.get("commit") else ""
    machine = report["machine"]
    return (
        f"The run of {report['date']}: `{command}`{defaults}{commit}; {machine['cpu']}, "
        f"{machine['cpus']} CPUs (server on CPU {', '.join(map(str, machine['server_cpus']))}, "
        f"load generator on CPU {', '.join(map(str, machine['load_cpus']))}), CPython {machine['python']}, "
        f"Linux {machine['kernel']}. Written by `{COMMAND}` from "
        "[benchmarks/fanout.json](benchmarks/fanout.json), which holds every figure of the run."
    )


def block(report: dict) -> str:
    """The text between the markers, markers excluded."""
    return f"{provenance(report)}\n\n{summary(report)}"


def rewritten(doc: str, report: dict) -> str:
    """`doc` with its block replaced by the one `report` gives.

    Raise ValueError unless `doc` holds each marker once, start before end."""
    if doc.count(START) != 1 or doc.count(END) != 1 or doc.index(START) > doc.index(END):
        raise ValueError(f"the document needs {START} then {END}, once each")
    head, rest = doc.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block(report)}\n{END}{tail}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="a fanout.json of bench/fanout.py")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="the Markdown document to rewrite")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the document's block is stale"
    )
    args = parser.parse_args(argv)
    doc = args.doc.read_text()
    try:
        expected = rewritten(doc, json.loads(args.json.read_text()))
    except ValueError as error:
        print(f"{args.doc}: {error}", file=sys.stderr)
        return 2
    if args.check:
        if expected != doc:
            fix = COMMAND
            if (args.json, args.doc) != (DEFAULT_JSON, DEFAULT_DOC):
                fix += f" --json {args.json} --doc {args.doc}"
            print(f"{args.doc}: the fan-out tables differ from {args.json}; run `{fix}`", file=sys.stderr)
            return 1
        return 0
    if expected != doc:
        args.doc.write_text(expected)
        print(f"rewrote the fan-out tables of {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
