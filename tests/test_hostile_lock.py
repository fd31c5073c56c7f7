"""A killed collect never locks the coordinator out: its workers die with it and never hold the
lock; the rerun starts at once and ends identical to a clean run (benchmarks/collect_kill_bench.py
does the same with 20+ kills and prints the figures)."""

from __future__ import annotations

import random

import pytest

from collect_kills import kill_and_rerun, make_world

pytestmark = pytest.mark.slow


def test_sigkilled_collects_with_workers_never_lock_the_rerun_out(tmp_path):
    seed, src = make_world(tmp_path, files=10)
    figures = kill_and_rerun(seed, src, tmp_path, kills=6, rng=random.Random(7))
    assert figures.kills == 6
    assert figures.orphans_after_kill == []
    assert figures.refused_reruns == 0
    assert max(figures.rerun_start_s) < 10
    assert figures.identical


def test_the_lock_file_names_its_holder_and_a_second_run_is_refused(tmp_path):
    import os

    from nianbao.campaign.collect import collect_lock
    from nianbao.errors import NianbaoError

    with collect_lock(tmp_path):
        assert (tmp_path / ".collect.lock").read_text().strip() == str(os.getpid())
        with pytest.raises(NianbaoError, match="正在处理"):
            with collect_lock(tmp_path):
                pass
    with collect_lock(tmp_path):  # released: taken again at once
        pass
