"""Long fuzz run of every decoding entry point of verifier/ (hostile QR texts, codes, COSE, CWT,
keys.json, revoked.json, the command line).

Run: python benchmarks/fuzz_verifier.py [--seconds 300] [--examples N] [--target NAME ...]
Target: 0 distinct failures. Exit status 1 if any example failed, 0 otherwise.

The targets are those of tests/test_verifier_fuzz.py (strategy + check: only ValueError may come
out, nothing random verifies, a decoder accepts only canonical spellings), which runs each for a
few hundred examples; here Hypothesis runs them round-robin, in rounds of fresh random examples
(SLICE seconds each, seeded from --seed), until the time or the example budget is spent.
A failing example does not stop the run: it is recorded by target, exception type and the line
that raised it, and each distinct failure is printed once with its first input and traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_verifier_fuzz import TARGETS  # noqa: E402

SLICE = 2.0  # seconds per target per round, so that slow targets (the CLI) get no more time
ROUND = 1_000_000  # examples per round: the slice, or --examples, ends it first


class _TimeUp(Exception):
    """Raised inside a round when the time budget is spent."""


def _where(exc: BaseException) -> str:
    """The innermost frame of the project (verifier/ or the test's checks) that raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if str(ROOT) in f.filename and "site-packages" not in f.filename]
    frame = (ours or frames)[-1]
    return f"{Path(frame.filename).relative_to(ROOT) if ours else frame.filename}:{frame.lineno}"


def run_round(name: str, round_seed: int, budget: int, stop_at: float, state: dict) -> int:
    """One round of at most ``budget`` examples of target ``name``; returns how many ran."""
    strategy, check = TARGETS[name]
    ran = 0

    @seed(round_seed)
    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # failures are caught below: nothing to shrink or explain
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(strategy)
    def one(value) -> None:
        nonlocal ran
        if time.monotonic() >= stop_at:
            raise _TimeUp
        ran += 1
        try:
            check(value)
        except Exception as exc:  # any escape is a failure: record it and go on
            key = (name, type(exc).__name__, _where(exc))
            state["failures"][key] += 1
            if key not in state["first"]:
                state["first"][key] = (repr(value)[:600], traceback.format_exc()[-2500:])

    with contextlib.suppress(_TimeUp):
        one()
    return ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="time budget (default 300)")
    parser.add_argument("--examples", type=int, help="stop after this many examples in all")
    parser.add_argument("--seed", type=int, default=0, help="first round's seed (default 0)")
    parser.add_argument(
        "--target", action="append", choices=sorted(TARGETS), help="only these (repeatable)"
    )
    args = parser.parse_args()
    names = args.target or sorted(TARGETS)
    state: dict = {"failures": Counter(), "first": {}}
    examples: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    start = time.monotonic()
    stop_at = start + args.seconds
    round_seed = args.seed
    while time.monotonic() < stop_at:
        for name in names:
            left = None if args.examples is None else args.examples - sum(examples.values())
            if (left is not None and left <= 0) or time.monotonic() >= stop_at:
                break
            began = time.monotonic()
            round_stop = min(stop_at, began + SLICE)
            examples[name] += run_round(
                name, round_seed, min(ROUND, left or ROUND), round_stop, state
            )
            seconds[name] += time.monotonic() - began
            round_seed += 1
        else:
            continue
        break
    elapsed = time.monotonic() - start

    total = sum(examples.values())
    failures: Counter = state["failures"]
    print(f"{'target':16} {'examples':>9} {'per s':>7} {'failing':>8}")
    for name in names:
        failing = sum(n for key, n in failures.items() if key[0] == name)
        rate = examples[name] / seconds[name] if seconds[name] else 0.0
        print(f"{name:16} {examples[name]:9} {rate:7.0f} {failing:8}")
    print()
    for key, (value, trace) in state["first"].items():
        print(f"FAILURE {key[0]}: {key[1]} at {key[2]} ({failures[key]} examples)")
        print(f"  first input: {value}")
        print("  " + trace.rstrip().replace("\n", "\n  "))
        print()
    print(f"examples tried: {total}")
    print(f"examples per second: {total / elapsed:.0f} ({elapsed:.0f} s)")
    print(f"distinct failures: {len(failures)} (target 0)")
    failed = sum(failures.values())
    print(f"verdict: {'PASS' if not failures else f'FAIL ({failed} failing examples)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
