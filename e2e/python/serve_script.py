"""Runs a test client script's main() once per request, in one long-lived Python process.

    python serve_script.py <script.py>

Each stdin line is a JSON list of the script's command-line arguments; each answer is the last line
the script printed, on one stdout line after MARK (a Python start and the pyarrow import cost ~0.3 s,
more than most calls). An exception that escapes main() (where the script run alone would have
failed) is answered after FAILED_MARK with its traceback, as one JSON string.
"""
import contextlib
import importlib.util
import io
import json
import sys
import traceback

MARK = "@@serve_script "
FAILED_MARK = "@@serve_script_failed "


def load(path):
    spec = importlib.util.spec_from_file_location("client_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answer(module, path, argv):
    out = io.StringIO()
    sys.argv = [path, *argv]
    try:
        with contextlib.redirect_stdout(out):
            module.main()
    except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
        return FAILED_MARK + json.dumps(f"{out.getvalue()[-4000:]}\n{traceback.format_exc()}")
    return MARK + out.getvalue().strip().split("\n")[-1]


def main():
    path = sys.argv[1]
    module = load(path)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(answer(module, path, json.loads(line)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
