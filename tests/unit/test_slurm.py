"""The Slurm executor's jobs (bench.pipeline.executors.slurm): job scripts, option checks and validate, with no cluster.

Checks against a cluster (Slurm's commands on the PATH, ``sinfo``'s partitions) run
against stand-in commands in a temporary folder, so these tests need no Slurm.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.errors import ExecutorError
from bench.pipeline.executors import ExecutorOptions, resolve
from bench.pipeline.executors.slurm import check_cluster, job_script, torch_threads, walltime_seconds, why_worker_died
from bench.spec.load import load_suite
from bench.spec.schema import ExecutorSpec

pytest.importorskip("dask_jobqueue")

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "suites" / "smoke.yaml"


def lines(script: str) -> list[str]:
    return script.splitlines()


def test_a_job_script_asks_for_what_the_options_say_and_a_gpu_becomes_a_dask_resource(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", "/shared/my data")
    monkeypatch.setenv("PYTHONPATH", "/shared/bench")
    monkeypatch.setattr(sys, "prefix", "/shared/venvs/bench")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    monkeypatch.setattr(sys, "executable", "/shared/venvs/my bench/bin/python")
    opts = ExecutorOptions(
        "slurm",
        jobs=4,
        cores_per_job=8,
        memory_per_job="16GB",
        walltime="04:00:00",
        partition="gpu",
        account="my-project",
        sbatch=("--qos=short", "#SBATCH --constraint=a100"),
        gpus_per_job=1,
        threads_per_worker=2,
    ).check()
    script = job_script(opts, tmp_path / "my run" / "slurm")
    directives = [line for line in lines(script) if line.startswith("#SBATCH")]
    assert directives == [
        "#SBATCH -J bench-worker",
        "#SBATCH -p gpu",
        "#SBATCH -A my-project",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=15G",  # 16 GB in Slurm's GiB, rounded up
        "#SBATCH -t 04:00:00",
        f'#SBATCH --output="{tmp_path}/my run/slurm/%x-%j.out"',  # sbatch reads a quoted value as one word
        f'#SBATCH --error="{tmp_path}/my run/slurm/%x-%j.err"',
        "#SBATCH --gpus=1",
        "#SBATCH --qos=short",
        "#SBATCH --constraint=a100",
    ]
    body = [line for line in lines(script) if line and not line.startswith("#")]
    assert body[0] == "source /shared/venvs/bench/bin/activate", "the driver's venv"
    exports = {"export BENCH_DATA_DIR='/shared/my data'", "export PYTHONPATH=/shared/bench", "export BENCH_OFFLINE=1"}
    assert exports <= set(body), "the driver's bench, with its data, store and offline settings"
    python = "'/shared/venvs/my bench/bin/python' "
    assert body[-1].startswith(python + "-m distributed.cli.dask_worker "), "the driver's python, quoted"
    worker = body[-1].removeprefix(python).split()
    assert worker[worker.index("--nthreads") + 1] == "2", "two cells at once; torch shares the job's 8 cores between them"
    assert worker[worker.index("--resources") + 1] == "GPU=1"
    assert worker[worker.index("--host") + 1] == '"$BENCH_WORKER_HOST"', "the worker listens on its node's address only"
    assert worker[worker.index("--dashboard-address") + 1] == '"$BENCH_WORKER_HOST:0"' and "--no-dashboard" in worker
    assert torch_threads(opts) == 4
    done = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_cpu_job_asks_for_no_gpu_and_offers_no_resource(tmp_path):
    script = job_script(ExecutorOptions("slurm").check(), tmp_path)
    assert "#SBATCH --cpus-per-task=1" in lines(script) and "#SBATCH --mem=2G" in lines(script)
    assert "--gpus" not in script and "--resources" not in script
    assert not any(line.startswith(("#SBATCH -t", "#SBATCH -p", "#SBATCH -A")) for line in lines(script)), "the cluster's defaults"
    assert "--nthreads 1 " in script


def test_the_worker_resolves_its_node_to_an_address_or_stops(tmp_path):
    prologue = [line for line in lines(job_script(ExecutorOptions("slurm"), tmp_path)) if "BENCH_WORKER_HOST" in line][:2]
    run = "\n".join([*prologue, 'echo "$BENCH_WORKER_HOST"'])

    def on(node: str) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "SLURMD_NODENAME": node}
        return subprocess.run(["bash", "-c", run], env=env, capture_output=True, text=True, check=False)

    assert on("localhost").stdout.strip() == "127.0.0.1"
    done = on("no-such-node.invalid")
    assert done.returncode == 1 and "cannot resolve the address of node no-such-node.invalid" in done.stderr


@pytest.mark.parametrize(
    "text, seconds",
    [("30", 1800), ("30:00", 1800), ("01:30:00", 5400), ("1-00", 86400), ("1-02:03", 93780), ("2-00:00:05", 172805)],
)
def test_walltime_reads_every_slurm_format(text, seconds):
    assert walltime_seconds(text) == seconds


def test_slurm_options_come_from_flags_then_the_suite_and_never_change_the_spec_hash():
    block = {"kind": "slurm", "jobs": 4, "partition": "cpu", "sbatch": ["--qos=short"]}
    suite = ExecutorSpec(**block)
    assert resolve(suite) == ExecutorOptions("slurm", jobs=4, partition="cpu", sbatch=("--qos=short",))
    assert resolve(suite, jobs=2, sbatch=("--qos=long",)).jobs == 2
    assert resolve(suite, jobs=2, sbatch=("--qos=long",)).sbatch == ("--qos=long",)
    assert resolve(suite, "dask") == ExecutorOptions("dask"), "another executor drops the suite's Slurm settings"
    plain = load_suite(SMOKE)
    on_slurm = load_suite(SMOKE, [f"executor={block}".replace("'", "")])
    assert on_slurm.executor.kind == "slurm" and on_slurm.spec_hash() == plain.spec_hash()


@pytest.mark.parametrize(
    "opts, message",
    [
        (ExecutorOptions("local", jobs=2), r"--jobs: only with --executor slurm \(the local executor runs cells in this process\)"),
        (ExecutorOptions("dask", partition="gpu"), "--partition: only with --executor slurm"),
        (ExecutorOptions("slurm", workers=2), "--workers: only with --executor dask"),
        (ExecutorOptions("slurm", scheduler="tcp://h:1"), "--scheduler: only with --executor dask"),
        (ExecutorOptions("slurm", jobs=0), "--jobs 0: must be at least 1"),
        (ExecutorOptions("slurm", walltime="4h"), "--walltime 4h: expected a Slurm time limit"),
        (ExecutorOptions("slurm", memory_per_job="lots"), "--memory-per-job lots: expected an amount"),
        (ExecutorOptions("slurm", sbatch=("qos=short",)), "--sbatch 'qos=short': expected an sbatch option"),
        (ExecutorOptions("slurm", threads_per_worker=4, cores_per_job=2), "--threads-per-worker 4: more cells at once than"),
    ],
)
def test_bad_slurm_options_are_one_line_errors(opts, message):
    with pytest.raises(ExecutorError, match=message) as err:
        opts.check()
    assert "\n" not in str(err.value)


def test_a_run_folder_whose_path_has_a_double_quote_is_refused_in_one_line(tmp_path):
    with pytest.raises(ExecutorError, match="^--executor slurm: the run folder.s path has a double quote") as err:
        job_script(ExecutorOptions("slurm").check(), tmp_path / 'say "hi"' / "slurm")
    assert "\n" not in str(err.value)


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    """Stand-ins for Slurm's commands on an otherwise empty PATH; sinfo lists partitions debug and gpu."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for cmd in ("sbatch", "squeue", "scancel"):
        (bin_dir / cmd).write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "sinfo").write_text("#!/bin/sh\nprintf 'debug\\ngpu\\ndebug\\n'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_checks_against_the_cluster_name_what_is_wrong(fake_slurm):
    smoke = load_suite(SMOKE)
    check_cluster(ExecutorOptions("slurm", partition="gpu", walltime="1:00:00"), smoke)
    with pytest.raises(ExecutorError, match=r"^--partition big: sinfo lists no such partition \(it lists: debug, gpu\)$"):
        check_cluster(ExecutorOptions("slurm", partition="big"), smoke)
    slow = load_suite(SMOKE, ["models.teacher.train.epochs=4000"])
    with pytest.raises(ExecutorError, match=r"^--walltime 00:30: shorter than the longest cell's estimate \(train teacher, ~"):
        check_cluster(ExecutorOptions("slurm", walltime="00:30"), slow)
    (fake_slurm / "sbatch").unlink()
    with pytest.raises(ExecutorError, match="^--executor slurm: sbatch not on the PATH"):
        check_cluster(ExecutorOptions("slurm"), smoke)


def test_validate_prints_the_job_script_and_the_ideal_wall_time_on_the_jobs(fake_slurm, tmp_path):
    args = ["validate", str(SMOKE), "--executor", "slurm", "--jobs", "2", "--partition", "gpu", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, [*args, "--gpus-per-job", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "job script (2 job(s), each one Dask worker running 1 cell(s) at once):" in out
    assert "  #SBATCH -p gpu" in out and "  #SBATCH --gpus=1" in out and "--resources GPU=1" in out
    assert f'#SBATCH --output="{tmp_path / "out"}/smoke/slurm/%x-%j.out"' in out
    assert "ideal wall time on 2 Slurm job(s) of 1 worker thread(s): " in out
    assert not (tmp_path / "out").exists(), "validate writes nothing"
    result = CliRunner().invoke(cli, [*args[:-4], "--partition", "big"])
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        "error: --partition big: sinfo lists no such partition (it lists: debug, gpu)"
    ]
    result = CliRunner().invoke(cli, ["validate", str(SMOKE), "--jobs", "2"])
    assert result.exit_code == 2 and "error: --jobs: only with --executor slurm" in result.output, "a Slurm option is never ignored"


def test_run_refuses_bad_combinations_before_anything_runs(fake_slurm, tmp_path):
    run = ["run", str(SMOKE), "--out", str(tmp_path), "--executor", "slurm"]
    for extra, message in [
        (["--workers", "2"], "error: --workers: only with --executor dask (not an option of --executor slurm)"),
        (["--partition", "big"], "error: --partition big: sinfo lists no such partition (it lists: debug, gpu)"),
        # The driver (a login node) need not have a GPU; the jobs must.
        (["--device", "cuda"], "error: --device cuda: the Slurm jobs have no GPU; add --gpus-per-job N"),
    ]:
        result = CliRunner().invoke(cli, [*run, *extra])
        assert result.exit_code == 2 and result.output.strip().splitlines()[-1] == message, result.output
    assert not list(tmp_path.glob("*/records/*.csv"))


def worker_log(log_dir: Path, job: str, address: str, end: str) -> None:
    log_dir.mkdir(exist_ok=True)
    (log_dir / f"bench-worker-{job}.err").write_text(
        f"2026-12-05 08:14:50,792 - distributed.worker - INFO -       Start worker at:      {address}\n"
        "2026-12-05 08:14:50,819 - distributed.worker - INFO -         Registered to:      tcp://127.0.0.1:39241\n"
        f"{end}\n"
    )


def test_a_dead_workers_job_and_why_slurm_ended_it_come_from_its_output(tmp_path):
    # slurmstepd's own lines, as Slurm 22.05 writes them into the job's stderr.
    worker_log(
        tmp_path, "8", "tcp://127.0.0.1:35161", "slurmstepd-localhost: error: *** JOB 8 ON localhost CANCELLED AT 2026-12-05T08:27:45 ***"
    )
    limit = "slurmstepd-localhost: error: *** JOB 9 ON localhost CANCELLED AT 2026-12-05T08:30:02 DUE TO TIME LIMIT ***"
    worker_log(tmp_path, "9", "tcp://127.0.0.1:41779", limit)
    worker_log(tmp_path, "10", "tcp://127.0.0.1:40001", "slurmstepd-localhost: error: Detected 1 oom-kill event(s) in StepId=10.batch.")
    assert why_worker_died(tmp_path, "tcp://127.0.0.1:35161") == (
        f"its Slurm job 8 was cancelled at 2026-12-05T08:27:45 (scancel, or preempted); see {tmp_path}/bench-worker-8.err"
    )
    assert why_worker_died(tmp_path, "tcp://127.0.0.1:41779").startswith("its Slurm job 9 hit its time limit (--walltime); see ")
    assert why_worker_died(tmp_path, "tcp://127.0.0.1:40001").startswith("its Slurm job 10 ran out of memory (--memory-per-job)")
    assert why_worker_died(tmp_path, "tcp://127.0.0.1:1") is None, "not a worker of this run"
