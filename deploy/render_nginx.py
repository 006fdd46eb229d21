"""Render deploy/nginx.conf.template.

    python deploy/render_nginx.py --prefix /var/lib/realtime-nginx --listen 80 \
        --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 > /etc/nginx/realtime.conf
"""

import argparse
import sys
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def render(*, prefix: str, listen: str, upstreams: list[str]) -> str:
    """The nginx configuration for `upstreams` (host:port of each Daphne process)."""
    servers = "\n        ".join(f"server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams)
    return Template(TEMPLATE.read_text()).substitute(PREFIX=prefix, LISTEN=listen, UPSTREAMS=servers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True, help="writable folder for pid and logs")
    parser.add_argument("--listen", default="80")
    parser.add_argument("--upstream", action="append", required=True, help="host:port of a Daphne")
    args = parser.parse_args()
    sys.stdout.write(render(prefix=args.prefix, listen=args.listen, upstreams=args.upstream))


if __name__ == "__main__":
    main()
