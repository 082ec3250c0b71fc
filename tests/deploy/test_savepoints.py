"""Flink upgrades start from a savepoint: the submit Job's --savepoint_path and what it parses to."""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from akhbar.pipelines import flink
from tests.deploy.test_deploy_manifests import DEPLOY, _docs, submit_args


def _expand(args: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' $(VAR) expansion of container args."""
    out = []
    for arg in args:
        for name, value in env.items():
            arg = arg.replace(f"$({name})", value)
        out.append(arg)
    return out


def _job_env() -> dict[str, str]:
    job = next(d for d in _docs(DEPLOY / "flink" / "k8s" / "submit-job.yaml") if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", [])}


def test_the_submit_job_starts_fresh_by_default_and_from_a_savepoint_when_set():
    env = _job_env()
    assert env["SAVEPOINT_PATH"] == ""
    assert "--savepoint_path=$(SAVEPOINT_PATH)" in submit_args()

    fresh_args = _expand(submit_args(), env)
    fresh = PipelineOptions(fresh_args)
    flink.apply_defaults(fresh, fresh_args)
    assert fresh.view_as(flink.FlinkClusterOptions).savepoint_path is None

    path = "s3://akhbar-state/savepoints/savepoint-3f2a91-0123456789ab"
    upgrade_args = _expand(submit_args(), {**env, "SAVEPOINT_PATH": path}) + ["--allow_non_restored_state"]
    upgrade = PipelineOptions(upgrade_args)
    flink.apply_defaults(upgrade, upgrade_args)
    cluster = upgrade.view_as(flink.FlinkClusterOptions)
    assert cluster.savepoint_path == path and cluster.allow_non_restored_state is True


def test_the_cluster_keeps_savepoints_and_checkpoints_on_cancel():
    (deployment,) = _docs(DEPLOY / "flink" / "k8s" / "flinkdeployment.yaml")
    conf = deployment["spec"]["flinkConfiguration"]
    assert conf["state.savepoints.dir"].startswith(("s3://", "gs://"))
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
