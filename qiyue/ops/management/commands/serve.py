from django.core.management.base import BaseCommand


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
        self.stdout.write(f"Qiyue is serving on http://{host}:{port}/  (Ctrl+C to stop)")
        serve(application, host=host, port=port, threads=threads, ident="qiyue")
