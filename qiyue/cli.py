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

`qiyue` or `qiyue help` lists Qiyue's own commands (each one's first help sentence), then Django's.
Any other Django management command works too (`qiyue shell`, `qiyue dbshell` …).
"""

import os
import re
import sys
import textwrap

# Django's commands an operator of Qiyue uses, named after Qiyue's own.
ALSO_USED = "migrate (create or upgrade the database), check --deploy, shell, dbshell"


def overview() -> str:
    """`qiyue`, `qiyue help`: Qiyue's own commands first, one line each, then the rest by name."""
    from django.core.management import get_commands, load_command_class

    commands = get_commands()
    ours = sorted(name for name, app in commands.items() if app.startswith("qiyue."))
    others = sorted(name for name, app in commands.items() if not app.startswith("qiyue."))
    width = max(len(name) for name in ours)
    lines = ["Usage: qiyue <command> [options]    ('qiyue help <command>' for a command's options)", "",
             "Qiyue's commands:"]
    for name in ours:
        text = " ".join(str(load_command_class(commands[name], name).help).split())
        first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0].rstrip(".")  # its first sentence
        lines.append(f"  {name:<{width}}  {first}")
    lines += ["", f"Also used with Qiyue: {ALSO_USED}.", "",
              *textwrap.wrap("Django's other commands: " + ", ".join(others), width=100, subsequent_indent="  ")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if argv[1:] in ([], ["help"], ["-h"], ["--help"]):
        import django

        django.setup()
        sys.stdout.write(overview())
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["qiyue", *argv[1:]])


if __name__ == "__main__":
    main()
