"""deploy/: the Kubernetes manifests and the Dataflow template parse, and carry the
options of a local run. The option list comes from AkhbarOptions, not from a copy."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions

from akhbar.pipelines import ingest
from akhbar.pipelines.options import AkhbarOptions

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_metadata = _load(DEPLOY / "dataflow" / "make_metadata.py", "make_metadata")


def akhbar_flag_names() -> set[str]:
    return {make_metadata.flag_name(a) for a in make_metadata.akhbar_flags()}


def beam_flag_names() -> set[str]:
    """Every flag some PipelineOptions subclass declares (Beam's and akhbar's)."""
    import argparse

    names = set()
    for cls in PipelineOptions.__subclasses__() + [AkhbarOptions]:
        parser = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
        try:
            cls._add_argparse_args(parser)
        except Exception:
            continue
        names |= {s.lstrip("-") for a in parser._actions for s in a.option_strings}
    return names


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _flag(arg: str) -> str:
    return arg.split("=", 1)[0].lstrip("-")


def submit_args() -> list[str]:
    job = next(d for d in _docs(DEPLOY / "flink" / "k8s" / "submit-job.yaml") if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["akhbar", "run"]
    return container["args"]


def test_flink_deployment_has_the_worker_pool_sidecar():
    (deployment,) = _docs(DEPLOY / "flink" / "k8s" / "flinkdeployment.yaml")
    assert deployment["apiVersion"] == "flink.apache.org/v1beta1" and deployment["kind"] == "FlinkDeployment"
    assert deployment["spec"]["flinkVersion"] == "v1_19"
    conf = deployment["spec"]["flinkConfiguration"]
    assert conf["state.checkpoints.dir"].startswith(("s3://", "gs://"))
    containers = deployment["spec"]["taskManager"]["podTemplate"]["spec"]["containers"]
    sidecar = next(c for c in containers if c["name"] == "beam-worker-pool")
    assert sidecar["args"] == ["--worker_pool"]
    port = sidecar["ports"][0]["containerPort"]
    args = dict(a.split("=", 1) for a in submit_args() if "=" in a)
    assert args["--environment_type"] == "EXTERNAL"
    assert args["--environment_config"] == f"localhost:{port}"


def test_submit_job_options_parse_as_a_local_run_would():
    args = submit_args()
    unknown = {_flag(a) for a in args} - beam_flag_names()
    assert not unknown, f"flags no options class declares: {sorted(unknown)}"
    akhbar = {_flag(a) for a in args} & akhbar_flag_names()
    assert {"feeds", "output", "poll_interval", "write_interval"} <= akhbar
    # The same parsing as `akhbar run` (minus the feed file, which lives in a ConfigMap there).
    opts = PipelineOptions(args).view_as(AkhbarOptions)
    assert opts.output.startswith(("s3://", "gs://")), "output goes to an object store"
    assert opts.view_as(ingest.StandardOptions).streaming
    assert opts.poll_interval > 0 and opts.write_interval > 0
    assert ingest.flink.is_flink(opts)
    # The job server jar path is where the Dockerfile puts it.
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    jar = dict(a.split("=", 1) for a in args if "=" in a)["--flink_job_server_jar"]
    cache = re.search(r"AKHBAR_FLINK_CACHE=(\S+)", dockerfile).group(1)
    assert jar == f"{cache}/jobserver/beam-flink-job-server.jar"


def test_dataflow_metadata_is_generated_from_akhbar_options():
    on_disk = json.loads((DEPLOY / "dataflow" / "metadata.json").read_text())
    assert on_disk == make_metadata.metadata(), "run deploy/dataflow/make_metadata.py"
    names = [p["name"] for p in on_disk["parameters"]]
    valued = {make_metadata.flag_name(a) for a in make_metadata.akhbar_flags() if a.nargs != 0}
    assert set(names) == valued - make_metadata.NOT_TEMPLATE_PARAMETERS
    required = {p["name"] for p in on_disk["parameters"] if not p["isOptional"]}
    assert required == {"feeds", "output"}
    for p in on_disk["parameters"]:
        for regex in p.get("regexes", []):
            re.compile(regex)


@pytest.mark.parametrize("value_of", ["poll_interval", "max_rows_per_file"])
def test_dataflow_parameters_are_accepted_by_the_pipeline(value_of):
    # A template passes --name=value: the pipeline's own parser must take it.
    opts = PipelineOptions([f"--{value_of}=42", "--feeds=gs://b/f.txt", "--output=gs://b/out"]).view_as(AkhbarOptions)
    assert float(getattr(opts, value_of)) == 42


def test_dockerfile_installs_like_the_makefile_and_bakes_the_models():
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    makefile = (DEPLOY.parent / "Makefile").read_text()
    assert re.search(r"^FROM apache/beam_python3\.11_sdk:\$\{BEAM_VERSION\}", dockerfile, re.M)
    assert "ARG BEAM_VERSION=2.77.0" in dockerfile
    assert 'pip install --quiet -e ".[$(EXTRAS)]"' in makefile
    assert 'pip install --no-cache-dir -e ".[${EXTRAS}]"' in dockerfile
    make_extras = re.search(r"^EXTRAS \?= (\S+)", makefile, re.M).group(1)
    assert f"ARG EXTRAS={make_extras}" in dockerfile
    assert "COPY models/ models/" in dockerfile
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in dockerfile


def test_staged_artifacts_are_on_a_volume_the_taskmanagers_mount():
    (deployment,) = _docs(DEPLOY / "flink" / "k8s" / "flinkdeployment.yaml")
    pod = deployment["spec"]["taskManager"]["podTemplate"]["spec"]
    main = next(c for c in pod["containers"] if c["name"] == "flink-main-container")
    artifacts_dir = dict(a.split("=", 1) for a in submit_args() if "=" in a)["--artifacts_dir"]
    mount = next(m for m in main["volumeMounts"] if m["mountPath"] == artifacts_dir)
    claim = next(v for v in pod["volumes"] if v["name"] == mount["name"])["persistentVolumeClaim"]["claimName"]
    job_docs = _docs(DEPLOY / "flink" / "k8s" / "submit-job.yaml")
    pvc = next(d for d in job_docs if d["kind"] == "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == claim and "ReadWriteMany" in pvc["spec"]["accessModes"]
