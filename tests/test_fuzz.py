"""Fuzzing every input the product reads, bounded so that `make test` runs it in a minute or two.

Targets (tests/fuzzlib.py): every source kind's reader, `stream.yaml` and `vsm.yaml` loading and
validation, and a report's front matter, references and rendered page. Each example is one of
the target's seeds (real exports from tests/data/real, hand-made files, the example streams)
with 1 to 4 stacked mutations, drawn from a seed number hypothesis chooses (derandomized, so a
run is repeatable). The invariant, checked by `fuzzlib.check`: no uncaught exception, nothing
printed by Python's "Exception ignored" machinery, every problem a documented code at a line
inside the file it names, no hang (30 s), bounded memory growth (768 MB).

`make fuzz MINUTES=n` (scripts/fuzz.py) runs the same targets for longer and keeps what it finds
in tests/data/fuzz/; every input stored there is replayed here first.
"""

from __future__ import annotations

import random
from pathlib import Path

import fuzzlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# examples per target in the bounded run (the report target renders a page each time: fewer)
EXAMPLES = {target: 6 for target in fuzzlib.TARGETS} | {"report": 3, "vsm-yaml": 4}


def describe(target: str, seed: fuzzlib.Seed, files: dict[str, bytes], violations: list[str]) -> str:
    folder = fuzzlib.save(target, seed, files, "found")
    return f"{target} on a mutation of seed {seed.name!r} (stored in {folder}):\n" + "\n".join(violations)


@pytest.mark.parametrize("target", fuzzlib.TARGETS)
def test_every_seed_is_read_cleanly(target: str, tmp_path: Path) -> None:
    """The unmutated seeds hold the invariant too (and every target has seeds)."""
    assert fuzzlib.seeds()[target]
    for seed in fuzzlib.seeds()[target]:
        outcome = fuzzlib.check(target, seed, dict(seed.files), tmp_path)
        assert outcome.violations == [], describe(target, seed, dict(seed.files), outcome.violations)


CORPUS = list(fuzzlib.corpus())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "seed", "files"),
    [(t, s, f) for t, s, f, _ in CORPUS],
    ids=[f"{t}/{folder.name}" for t, _, _, folder in CORPUS],
)
def test_the_stored_corpus_still_holds(target: str, seed: fuzzlib.Seed, files: dict[str, bytes], tmp_path: Path) -> None:
    outcome = fuzzlib.check(target, seed, files, tmp_path)
    assert outcome.violations == [], "\n".join(outcome.violations)


def test_the_corpus_is_not_empty() -> None:
    # tests/data/fuzz holds at least one input per target from `make fuzz` (regression inputs)
    assert {t for t, *_ in CORPUS} >= set(fuzzlib.TARGETS) - {"vsm-yaml"}, sorted({t for t, *_ in CORPUS})


@pytest.mark.slow
@pytest.mark.parametrize("target", fuzzlib.TARGETS)
def test_fuzz(target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp(f"fuzz-{target}")

    @settings(
        max_examples=EXAMPLES[target],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(number=st.integers(min_value=0, max_value=2**32 - 1))
    def one(number: int) -> None:
        seed, files, outcome = fuzzlib.run_random(target, random.Random(number), workdir)
        assert outcome.violations == [], describe(target, seed, files, outcome.violations)

    one()
