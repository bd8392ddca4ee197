"""The `qiyue` operator command.

    qiyue serve [--host H] [--port P]     serve the web app and API (waitress)
    qiyue worker [--retry-failed|--recover] run background tasks (text extraction, OCR, indexing)
    qiyue migrate                         create or upgrade the database
    qiyue demo                            load the demo company (once)
    qiyue createuser NAME --role R [--team T] [--password-stdin]
    qiyue token NAME                      print the user's API token
    qiyue reset2fa NAME                   remove the user's two-factor authenticator (a lost phone)
    qiyue audit verify [--checkpoint F]   check the audit log's HMAC chain (and that it reaches a checkpoint)
    qiyue audit checkpoint                write a signed checkpoint of the audit log where configured
    qiyue check --deploy                  Django's deployment checks

Any other Django management command works too (`qiyue shell`, `qiyue dbshell` …).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["qiyue", *argv[1:]])


if __name__ == "__main__":
    main()
