"""Render the nginx configuration for N Daphne processes.

A whole nginx.conf, for `nginx -c`:

    python deploy/render_nginx.py --prefix /var/lib/realtime-nginx --listen 80 \\
        --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 > /etc/nginx/realtime.conf

Or the site alone, for a distribution's nginx (Debian's conf.d):

    python deploy/render_nginx.py --site --access-log /var/log/nginx/realtime-access.log \\
        --error-log /var/log/nginx/error.log \\
        --listen 80 --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 \\
        > /etc/nginx/conf.d/realtime.conf
"""

import argparse
import re
import sys
from pathlib import Path
from string import Template

DEPLOY = Path(__file__).resolve().parent
MAIN_TEMPLATE = DEPLOY / "nginx.conf.template"
SITE_TEMPLATE = DEPLOY / "nginx-site.conf.template"


class NginxTemplate(Template):
    """Only ${UPPER_CASE} is ours: nginx's own variables ($uri, ${host})
    pass through untouched, and a placeholder left without a value raises."""

    flags = re.VERBOSE
    pattern = r"""
        \$(?:
            (?P<escaped>(?!))                 |
            (?P<named>(?!))                   |
            \{(?P<braced>[A-Z][A-Z0-9_]*)\}   |
            (?P<invalid>(?!))
        )
    """


# Per client address, at nginx: the same defaults as Daphne's own
# (REALTIME_MAX_SOCKETS_PER_ADDRESS, REALTIME_HANDSHAKES_PER_SECOND/BURST).
LIMIT_DEFAULTS = {"websockets_per_address": 256, "handshakes_per_second": 20, "handshake_burst": 100}


def render_site(
    *,
    listen: str,
    access_log: str,
    error_log: str,
    upstreams: list[str],
    websockets_per_address: int = LIMIT_DEFAULTS["websockets_per_address"],
    handshakes_per_second: int = LIMIT_DEFAULTS["handshakes_per_second"],
    handshake_burst: int = LIMIT_DEFAULTS["handshake_burst"],
) -> str:
    """What goes in nginx's `http` block for `upstreams` (host:port of each Daphne)."""
    if not upstreams:
        raise ValueError("at least one upstream")
    servers = "\n    ".join(f"server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams)
    return NginxTemplate(SITE_TEMPLATE.read_text()).substitute(
        LISTEN=listen,
        ACCESS_LOG=access_log,
        ERROR_LOG=error_log,
        UPSTREAMS=servers,
        WEBSOCKETS_PER_ADDRESS=websockets_per_address,
        HANDSHAKES_PER_SECOND=handshakes_per_second,
        HANDSHAKE_BURST=handshake_burst,
    )


def render(*, prefix: str, listen: str, upstreams: list[str], access_log: str = "", **limits: int) -> str:
    """A whole nginx.conf; pid, logs and temporary files under `prefix`."""
    prefix = prefix.rstrip("/") or "/"
    site = render_site(
        listen=listen,
        access_log=access_log or f"{prefix}/access.log",
        error_log=f"{prefix}/error.log",
        upstreams=upstreams,
        **limits,
    )
    indented = "\n".join(f"    {line}" if line else "" for line in site.splitlines())
    return NginxTemplate(MAIN_TEMPLATE.read_text()).substitute(PREFIX=prefix, SITE=indented)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="store_true", help="only the http block's contents")
    parser.add_argument("--prefix", help="writable folder for pid, logs and temporary files")
    parser.add_argument("--access-log", help="default: PREFIX/access.log")
    parser.add_argument("--error-log", help="with --site (default: Debian's /var/log/nginx/error.log)")
    parser.add_argument("--listen", default="80")
    parser.add_argument("--upstream", action="append", required=True, help="host:port of a Daphne")
    for name, default in LIMIT_DEFAULTS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"), type=int, default=default, help=f"default {default}"
        )
    args = parser.parse_args()
    limits = {name: getattr(args, name) for name in LIMIT_DEFAULTS}
    if args.site:
        if not args.access_log:
            parser.error("--site needs --access-log")
        text = render_site(
            listen=args.listen,
            access_log=args.access_log,
            error_log=args.error_log or "/var/log/nginx/error.log",
            upstreams=args.upstream,
            **limits,
        )
    else:
        if not args.prefix:
            parser.error("--prefix is required (or --site for the http block alone)")
        text = render(
            prefix=args.prefix,
            listen=args.listen,
            upstreams=args.upstream,
            access_log=args.access_log or "",
            **limits,
        )
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
