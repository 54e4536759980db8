"""visionr1.testing.processes: commands in tests are stopped for hanging, never for being slow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from visionr1.testing.processes import Stalled, run_patiently, stop, wait_until


def test_a_silent_command_is_stopped_a_slow_one_that_shows_progress_is_not(tmp_path):
    with pytest.raises(Stalled, match="no progress for 1 s"):
        run_patiently([sys.executable, "-c", "import time; time.sleep(60)"], stall_s=1.0)
    # 2.5 s in all, but a file changes every 0.5 s: progress
    slow = "import time, pathlib\nfor i in range(5):\n    pathlib.Path('out', f'{i}').write_text('x'); time.sleep(0.5)"
    (tmp_path / "out").mkdir()
    done = run_patiently([sys.executable, "-c", slow], cwd=tmp_path, watch=[tmp_path / "out"], stall_s=1.0)
    assert done.returncode == 0 and len(list((tmp_path / "out").iterdir())) == 5


def test_wait_until_returns_when_the_condition_holds_or_the_process_ends(tmp_path):
    flag = tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, "-c", f"import time, pathlib; time.sleep(0.3); pathlib.Path({str(flag)!r}).touch(); time.sleep(60)"],
                            start_new_session=True)
    try:
        assert wait_until(flag.exists, proc, watch=[tmp_path], stall_s=30)
    finally:
        stop(proc)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    assert wait_until(lambda: False, ended, stall_s=30) is False
