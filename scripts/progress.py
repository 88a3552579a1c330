"""Run a long command and show that it is alive: every 30 s a line with the elapsed time and the stage.

    python scripts/progress.py LABEL [options] -- COMMAND [ARGS ...]

- `--stage REGEX`: an output line matching it starts a new stage; the line is replaced by
  `[LABEL] <stage> (<elapsed>)`, the stage being `--stage-text` filled with the match's groups;
- `--hide REGEX`: output lines matching it are dropped; `--keep REGEX`: only lines matching it pass;
- every `--every` seconds without a new stage: `[LABEL] <elapsed>: still <stage>`.

Only the command's standard output is read (line by line, as it comes); its standard error goes straight
to the terminal, so warnings and errors are never filtered. Standard library only (set-up runs it before
the dependencies are installed). The exit status is the command's; Ctrl-C reaches it as usual.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time


def elapsed_text(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     usage="%(prog)s LABEL [options] -- COMMAND [ARGS ...]")
    parser.add_argument("label", help="shown in brackets, e.g. train")
    parser.add_argument("--every", type=float, default=30, help="seconds between two progress lines")
    parser.add_argument("--initially", default="working", help="the stage before any --stage line")
    parser.add_argument("--stage", type=re.compile, help="a line that starts a stage")
    parser.add_argument("--stage-text", default="{0}", help="the stage's name from the match's groups")
    parser.add_argument("--hide", type=re.compile, help="lines to drop")
    parser.add_argument("--keep", type=re.compile, help="the only lines to pass")
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("no command given (put it after --)")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1:]
    return args


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    label = f"\033[1m[{args.label}]\033[0m" if sys.stdout.isatty() else f"[{args.label}]"
    state = {"stage": args.initially, "since": started}
    lock = threading.Lock()

    def say(text: str) -> None:
        with lock:
            print(text, flush=True)

    # PYTHONUNBUFFERED: a Python command writing into a pipe would otherwise hold its lines back.
    process = subprocess.Popen(args.command, stdout=subprocess.PIPE, text=True, errors="replace", bufsize=1,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def relay() -> None:
        for line in process.stdout:
            line = line.rstrip("\n")
            match = args.stage.search(line) if args.stage else None
            if match:
                state["stage"] = args.stage_text.format(*(match.groups() or (line,)))
                state["since"] = time.monotonic()
                say(f"{label} {state['stage']} ({elapsed_text(state['since'] - started)})")
            elif not (args.hide and args.hide.search(line)) and not (args.keep and not args.keep.search(line)):
                say(line)

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        while True:
            try:
                status = process.wait(timeout=max(0.05, state["since"] + args.every - time.monotonic()))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - state["since"] >= args.every:
                    say(f"{label} {elapsed_text(time.monotonic() - started)}: still {state['stage']}")
                    state["since"] = time.monotonic()
    except KeyboardInterrupt:  # the command got the Ctrl-C too: let it stop and report its status
        status = process.wait()
    reader.join(timeout=5)
    return 128 - status if status < 0 else status  # killed by a signal: as a shell says it


def main(argv: list[str] | None = None) -> int:
    return run(parse(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
