"""Benchmark the crisis detector: ``python -m moderation.bench`` (a measurement, never a test assertion).

Times ``detect`` on distinct messages of 280 characters made from the training corpus, beside the rules alone in the
same run, and prints the median, p99 and maximum CPU time per message in microseconds and the ratio of the two.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence

from moderation.corpus import everyday_examples, training_examples
from moderation.crisis import detect
from moderation.crisis_rules import judge_rules

MESSAGE_CHARS = 280


def messages(count: int, seed: int, *, ordinary: bool = False) -> list[str]:
    """Distinct messages of exactly MESSAGE_CHARS characters, texts joined in random order: all corpus texts
    (crisis-dense, the worst case: most messages hit a rule or the model) or everyday chat only (ordinary traffic)."""
    texts = [example.text for example in (everyday_examples() if ordinary else training_examples())]
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < count:
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < MESSAGE_CHARS:
            parts.append(rng.choice(texts))
        out[" ".join(parts)[:MESSAGE_CHARS]] = None
    return list(out)


def timings_us(function: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    """CPU time of this thread per call: on a shared machine, time spent waiting for a core is not the detector's."""
    out: list[float] = []
    clock = time.thread_time_ns
    for text in texts:
        start = clock()
        function(text)
        out.append((clock() - start) / 1000)
    return out


def summary(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered):7.1f} us   p99 {p99:7.1f} us   max {ordered[-1]:8.1f} us"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.bench", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{args.messages} distinct messages of {MESSAGE_CHARS} characters per row")
    for ordinary in (True, False):
        kind = "everyday chat" if ordinary else "crisis-dense (all corpus texts)"
        # Warm the per-word caches as a running server has them (other messages than the measured ones).
        for text in messages(2000, args.seed + 1, ordinary=ordinary):
            detect(text)
        gc.collect()
        gc.disable()
        try:
            rules = timings_us(judge_rules, messages(args.messages, args.seed, ordinary=ordinary))
            full = timings_us(detect, messages(args.messages, args.seed + 2, ordinary=ordinary))
        finally:
            gc.enable()
        print(kind)
        print(f"  rules alone          {summary(rules)}")
        print(f"  detect (all layers)  {summary(full)}")
        print(f"  ratio of medians detect/rules: {statistics.median(full) / statistics.median(rules):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
