"""`evalmodel compile`: the numba kernels are compiled into their cache after installing."""

from __future__ import annotations

import pytest

from evalmodel.cli import main
from evalmodel.report.warmup import warm_kernels


def test_compile_runs_every_kernel_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("compiled kernels, cached: sdid, synth, synth(augment='ridge')")
    from evalmodel.core import fw_kernel, simplex_kernel
    from evalmodel.inference import multiplier_kernel

    # each kernel module's entry points now hold a compiled signature
    for kernel in (fw_kernel._solve_batch, simplex_kernel._simplex_ls,
                   simplex_kernel._leave_one_out, multiplier_kernel._draws):
        assert getattr(kernel, "signatures", None), kernel


def test_nothing_to_compile_without_numba(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EVALMODEL_NUMBA", "0")
    assert warm_kernels() == []
    assert main(["compile"]) == 0
    assert "nothing to compile" in capsys.readouterr().out
