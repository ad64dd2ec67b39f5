"""backline: the command line. Each command returns an exit code; bad input is
one line per problem on stderr, never a traceback."""
from __future__ import annotations

import argparse
import sys

from ..errors import BacklineError
from . import box, check, library, songs, web
from .common import with_config


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backline", description="Backline backing-track appliance")
    sub = p.add_subparsers(dest="command", required=True)
    for commands in (songs, box, check, library, web):
        commands.add_commands(sub, with_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BacklineError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:      # `backline beats song | head`
        sys.stderr.close()
        return 0
