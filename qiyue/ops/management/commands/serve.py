from django.conf import settings
from django.core.management.base import BaseCommand

# The proxy headers waitress takes from the trusted proxy: the scheme (so Django sees HTTPS, sends
# HSTS and does not redirect again) and the client address (the last hop of X-Forwarded-For, the
# one the proxy appended, becomes REMOTE_ADDR). X-Forwarded-Host is not trusted: a proxy that does
# not set it passes the client's own on, and the proxy is asked to pass the Host header instead.
TRUSTED_PROXY_HEADERS = frozenset({"x-forwarded-proto", "x-forwarded-for"})


def proxy_options() -> dict:
    """waitress's proxy options for the settings: with QIYUE_BEHIND_PROXY, trust the headers above
    from QIYUE_TRUSTED_PROXY (one address) and no one else; without it, trust none. Either way waitress
    removes every proxy header it does not trust before Django sees the request."""
    if not settings.QIYUE_BEHIND_PROXY:
        return {"clear_untrusted_proxy_headers": True}
    return {"trusted_proxy": settings.QIYUE_TRUSTED_PROXY, "trusted_proxy_count": 1,
            "trusted_proxy_headers": set(TRUSTED_PROXY_HEADERS), "clear_untrusted_proxy_headers": True}


class Command(BaseCommand):
    help = "Serve Qiyue (web UI and API) with the waitress WSGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host, port, threads, **options):
        from waitress import serve

        from config.wsgi import application
        from qiyue.vault.uploadhandlers import encrypt_waitress_buffers

        # Request bodies and pending responses that waitress spills out of memory go to encrypted
        # temporary files; raises (and nothing is served) if this waitress cannot be made to.
        encrypt_waitress_buffers()
        proxy = proxy_options()
        self.stdout.write(f"Qiyue is serving on http://{host}:{port}/  (Ctrl+C to stop)")
        if "trusted_proxy" in proxy:
            self.stdout.write(f"Trusting X-Forwarded-Proto and X-Forwarded-For from {proxy['trusted_proxy']}")
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="qiyue", **proxy)
