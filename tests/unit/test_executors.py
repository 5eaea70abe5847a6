"""Choosing the executor (bench.pipeline.executors): flags over the suite's choice, and one-line errors for bad options."""

from __future__ import annotations

import pytest

from bench.errors import ExecutorError
from bench.pipeline.executors import ExecutorOptions, resolve
from bench.spec.schema import ExecutorSpec


def test_executor_comes_from_flags_then_the_suite():
    assert resolve(None) == ExecutorOptions("local")
    suite = ExecutorSpec(kind="dask", workers=4, torch_threads=2)
    assert resolve(suite) == ExecutorOptions("dask", workers=4, torch_threads=2)
    assert resolve(suite, workers=2) == ExecutorOptions("dask", workers=2, torch_threads=2)
    assert resolve(suite, "local") == ExecutorOptions("local"), "another executor drops the suite's Dask settings"
    assert resolve(suite, scheduler="tcp://10.0.0.1:8786") == ExecutorOptions("dask", scheduler="tcp://10.0.0.1:8786", torch_threads=2)


@pytest.mark.parametrize(
    "opts, message",
    [
        (ExecutorOptions("local", workers=2), "--workers: only with --executor dask"),
        (ExecutorOptions("dask", workers=0), "--workers 0: must be at least 1"),
        (ExecutorOptions("dask", workers=2, scheduler="tcp://h:1"), "--scheduler: the running cluster has its own workers"),
        (ExecutorOptions("dask", scheduler="h:8786"), "--scheduler h:8786: expected an address like tcp://host:8786"),
        (ExecutorOptions("ray"), "executor 'ray': choose one of local, dask"),
    ],
)
def test_bad_executor_options_are_one_line_errors(opts, message):
    with pytest.raises(ExecutorError, match=message):
        opts.check()
