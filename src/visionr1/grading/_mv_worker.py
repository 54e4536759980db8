"""Math-Verify worker process: one JSON request per stdin line, one JSON reply per stdout line.

Run as a script (``python _mv_worker.py``) by :mod:`visionr1.grading.supervisor`; it imports only
math_verify, so it starts in about half a second. The parent kills it when a comparison runs past
its deadline, which is the only timeout that works in every thread and every kind of process
(math-verify's own ``signal.alarm`` timeout works only in a main thread).

After its imports (and one comparison, so that math-verify's lazily built parsers are ready too) it writes
``{"ready": true}``: the supervisor charges a request's deadline only from then on.

A request with ``"op": "mmmath"`` runs MM-Math's released scorer (``mmmath.py`` beside this file, loaded
by file name: it imports nothing from visionr1) instead of Math-Verify's comparison; ``"op": "mathvision"``
runs MATH-V's released verdict (``mathvision.py``, loaded the same way).
"""

import json
import logging
import sys


def _protocol(name: str):
    """``<name>.py`` beside this file (an official protocol), loaded by path (this worker runs outside the
    visionr1 package)."""
    import importlib.util
    from pathlib import Path

    key = f"_visionr1_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[key] = module
    return sys.modules[key]


def main() -> None:
    logging.disable(logging.WARNING)  # math-verify warns that its own timeout is off: that is on purpose
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    configs = [LatexExtractionConfig(), ExprExtractionConfig()]

    def parse_one(text: str):
        if "$" not in text and "\\(" not in text and "\\[" not in text:
            text = f"${text}$"
        return parse(text, extraction_config=configs, parsing_timeout=None)

    out = sys.stdout
    try:
        verify(parse_one("1"), parse_one("\\frac{2}{2}"), timeout_seconds=None)
    except Exception:  # noqa: BLE001 - a warm-up only
        pass
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            if req.get("op") in ("mmmath", "mathvision"):
                if req["op"] == "mmmath":
                    reply = {"equal": _protocol("mmmath").judge(req["gold"], req["pred"])}
                else:
                    reply = {"equal": _protocol("mathvision").verdict(req["answer"], req["options"], req["extracted"])}
                out.write(json.dumps(reply) + "\n")
                out.flush()
                continue
            gold = parse_one(req["gold"])
            pred = parse_one(req["pred"])
            if not gold or not pred:
                reply = {"verdict": "unparseable"}
            else:
                ok = verify(gold, pred, float_rounding=req.get("float_rounding", 6), timeout_seconds=None)
                reply = {"verdict": "equal" if ok else "different"}
        except Exception as exc:  # noqa: BLE001 - a reply per request, whatever happens
            reply = {"verdict": "unparseable", "error": type(exc).__name__}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
