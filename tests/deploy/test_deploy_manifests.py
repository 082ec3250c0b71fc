"""deploy/ runs as documented, as far as this machine (no Docker, no Kubernetes, no cloud) can tell:

* every Kubernetes manifest validates against Kubernetes' published schemas (the
  ``kubernetes-validate`` package ships them; strict: unknown fields are errors). The
  FlinkDeployment is a custom resource whose schema (the operator's CRD) is not among them:
  its JobManager and TaskManager pod templates are validated as Pods, the rest is checked below;
* every akhbar/Beam option in the documented commands (``akhbar run``/``submit`` in README.md,
  docs/ and deploy/, the Dataflow ``--parameters``, the submit Job's args) parses with Beam's
  own option parser, strictly (an unknown flag or ``--streaming=true`` fails);
* the image is built from the wheel with the object-store extras, and the Dataflow
  ``flex-template build`` command uses gcloud's flags the way gcloud allows.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
import types
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

import akhbar.pipelines.flink  # noqa: F401  (declares the Flink cluster options)
from akhbar.pipelines import flink
from akhbar.pipelines.options import AkhbarOptions
from tests.paths import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
K8S_VERSION = "1.30.0"  # the oldest Kubernetes the Flink Kubernetes Operator 1.8+ is used with here


def _load(path: Path, name: str):
    """A script of deploy/ as a module (registered, so its dataclasses resolve)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


make_metadata = _load(DEPLOY / "dataflow" / "make_metadata.py", "make_metadata")
launch = _load(DEPLOY / "dataflow" / "launch.py", "dataflow_launch")
flink_local = _load(DEPLOY / "flink" / "local" / "flink_local.py", "flink_local")


# -- Beam's parser, strictly ------------------------------------------------------------------------


def beam_parse(args: list[str]) -> AkhbarOptions:
    """Parse ``args`` as Beam does (every PipelineOptions class), but fail on what Beam would drop or refuse."""
    parser = _BeamArgumentParser(allow_abbrev=False)
    classes = {str(cls): cls for cls in PipelineOptions.__subclasses__()}
    for cls in classes.values():
        cls._add_argparse_args(parser)
    try:
        _known, unknown = parser.parse_known_args(args)
    except SystemExit:
        raise AssertionError(f"Beam's option parser refuses {args}") from None
    assert not unknown, f"no options class declares {unknown} (Beam would drop them)"
    return PipelineOptions(args).view_as(AkhbarOptions)


def test_the_strict_parser_refuses_what_beam_refuses_or_drops():
    with pytest.raises(AssertionError, match="refuses"):
        beam_parse(["--streaming=true"])  # a store_true flag given a value
    with pytest.raises(AssertionError, match="declares"):
        beam_parse(["--ner_backend=torch"])
    assert beam_parse(["--feeds=f.txt", "--poll_interval=60"]).poll_interval == 60


# -- Kubernetes manifests ------------------------------------------------------------------------------


def manifests() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted((DEPLOY / "flink" / "k8s").glob("*.yaml")):
        found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def flink_deployment() -> dict:
    (deployment,) = _docs(DEPLOY / "flink" / "k8s" / "flinkdeployment.yaml")
    return deployment


def submit_job() -> dict:
    return next(d for d in _docs(DEPLOY / "flink" / "k8s" / "submit-job.yaml") if d["kind"] == "Job")


def submit_args() -> list[str]:
    container = submit_job()["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["akhbar", "run"]
    return container["args"]


def _arg_values(args: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in args if "=" in a)


@pytest.mark.parametrize("path,doc", manifests(), ids=lambda v: v.name if isinstance(v, Path) else v.get("kind"))
def test_manifest_matches_the_kubernetes_schema(path, doc):
    if doc["apiVersion"].startswith("flink.apache.org/"):
        # A custom resource: its schema is the operator's CRD, not shipped with Kubernetes' schemas.
        templates = {role: doc["spec"][role]["podTemplate"] for role in ("jobManager", "taskManager")}
        for role, pod in templates.items():
            assert kubernetes_validate.validate(pod, K8S_VERSION, strict=True), role
        return
    assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelled_field():
    job = json.loads(json.dumps(submit_job()))
    job["spec"]["backofLimit"] = job["spec"].pop("backoffLimit")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S_VERSION, strict=True)
    pod = json.loads(json.dumps(flink_deployment()["spec"]["taskManager"]["podTemplate"]))
    pod["spec"]["containers"][1]["ports"][0]["containerPort"] = "fifty thousand"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


def test_flink_deployment_has_the_worker_pool_sidecar():
    deployment = flink_deployment()
    assert deployment["apiVersion"] == "flink.apache.org/v1beta1" and deployment["kind"] == "FlinkDeployment"
    assert deployment["spec"]["flinkVersion"] == f"v{flink.FLINK_VERSION.replace('.', '_')}"
    conf = deployment["spec"]["flinkConfiguration"]
    assert conf["state.checkpoints.dir"].startswith(("s3://", "gs://"))
    containers = deployment["spec"]["taskManager"]["podTemplate"]["spec"]["containers"]
    sidecar = next(c for c in containers if c["name"] == "beam-worker-pool")
    assert sidecar["args"] == ["--worker_pool"]
    port = sidecar["ports"][0]["containerPort"]
    args = _arg_values(submit_args())
    assert args["--environment_type"] == "EXTERNAL"
    assert args["--environment_config"] == f"localhost:{port}"


def test_the_s3_plugin_is_on_the_jobmanager_and_the_taskmanagers():
    deployment = flink_deployment()
    flink_image_version = deployment["spec"]["image"].split(":")[1].split("-")[0]
    s3_paths = [v for k, v in deployment["spec"]["flinkConfiguration"].items() if str(v).startswith("s3://")]
    assert s3_paths, "the state goes to s3://"
    for role in ("jobManager", "taskManager"):
        main = next(c for c in deployment["spec"][role]["podTemplate"]["spec"]["containers"]
                    if c["name"] == "flink-main-container")
        env = {e["name"]: e["value"] for e in main.get("env", [])}
        assert env.get("ENABLE_BUILT_IN_PLUGINS") == f"flink-s3-fs-hadoop-{flink_image_version}.jar", role


def test_the_submit_job_cannot_start_a_second_copy():
    spec = submit_job()["spec"]
    assert spec["backoffLimit"] == 0 and spec.get("parallelism", 1) == 1 and spec.get("completions", 1) == 1
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    opts = beam_parse(submit_args())
    # A fixed job name: `akhbar run` refuses to submit while a Flink job of that name is active.
    assert opts.get_all_options()["job_name"] == "akhbar-ingest"
    assert opts.view_as(StandardOptions).streaming and flink.is_flink(opts)


def test_submit_job_options_parse_as_a_local_run_would():
    args = submit_args()
    opts = beam_parse(args)
    akhbar = {make_metadata.flag_name(a) for a in make_metadata.akhbar_flags()}
    assert {"feeds", "output", "poll_interval", "write_interval"} <= {a.split("=")[0].lstrip("-") for a in args} & akhbar
    assert opts.output.startswith(("s3://", "gs://")), "output goes to an object store"
    assert opts.poll_interval > 0 and opts.write_interval > 0
    # The job server jar is where the image puts it.
    cache = re.search(r"AKHBAR_FLINK_CACHE=(\S+)", (DEPLOY / "docker" / "Dockerfile").read_text()).group(1)
    assert _arg_values(args)["--flink_job_server_jar"] == f"{cache}/jobserver/beam-flink-job-server.jar"


def test_staged_artifacts_are_on_a_volume_the_taskmanagers_mount():
    pod = flink_deployment()["spec"]["taskManager"]["podTemplate"]["spec"]
    main = next(c for c in pod["containers"] if c["name"] == "flink-main-container")
    artifacts_dir = _arg_values(submit_args())["--artifacts_dir"]
    mount = next(m for m in main["volumeMounts"] if m["mountPath"] == artifacts_dir)
    claim = next(v for v in pod["volumes"] if v["name"] == mount["name"])["persistentVolumeClaim"]["claimName"]
    pvc = next(d for d in _docs(DEPLOY / "flink" / "k8s" / "submit-job.yaml") if d["kind"] == "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == claim and "ReadWriteMany" in pvc["spec"]["accessModes"]


# -- the image ---------------------------------------------------------------------------------------


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"(?m)^FROM ", dockerfile)[1:]


def test_the_image_is_built_from_the_wheel_with_the_object_store_extras():
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    requires = metadata.requires("akhbar") or []  # pyproject.toml's, as installed
    beam_pin = next(r for r in requires if r.startswith("apache-beam==") and "extra" not in r)
    assert f"ARG BEAM_VERSION={beam_pin.split('==')[1]}" in dockerfile
    declared_extras = set(metadata.metadata("akhbar").get_all("Provides-Extra") or [])
    final = _stages(dockerfile)[-1]
    assert final.startswith("apache/beam_python3.11_sdk:${BEAM_VERSION}")
    assert re.search(r"^COPY dist/akhbar-\*\.whl ", final, re.M), "the image installs the wheel from `make dist`"
    extras = re.search(r"^ARG EXTRAS=(\S+)", final, re.M).group(1).split(",")
    assert set(extras) == {"aws", "gcp"} and set(extras) <= declared_extras
    assert 'pip install --no-cache-dir "$1[${EXTRAS}]"' in final
    # No source tree and no training code: only the wheel, the launcher script and the job server jars.
    copies = re.findall(r"^COPY (?!--from)(.+?) \S+$", final, re.M)
    assert sorted(copies) == ["deploy/dataflow/launch.py", "dist/akhbar-*.whl"], copies
    instructions = "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
    assert "pip install -e" not in instructions and "training" not in instructions
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in final


def test_the_image_names_the_dataflow_launcher_file_it_copies():
    final = _stages((DEPLOY / "docker" / "Dockerfile").read_text())[-1]
    launcher = re.search(r"FLEX_TEMPLATE_PYTHON_PY_FILE=(\S+)", final).group(1)
    assert re.search(rf"^COPY deploy/dataflow/launch\.py {re.escape(launcher)}$", final, re.M)
    assert "/opt/google/dataflow/python_template_launcher" in final


def test_the_launcher_submits_streaming_on_dataflow():
    args = launch.launcher_args(["--feeds=gs://b/feeds.txt", "--output=gs://b/out", "--poll_interval=300"])
    assert args[0] == "submit"
    opts = beam_parse(args[1:])
    assert opts.view_as(StandardOptions).streaming and opts.view_as(StandardOptions).runner == "DataflowRunner"
    # Given flags are kept, not doubled.
    again = launch.launcher_args(["--streaming", "--runner=DirectRunner"])
    assert again == ["submit", "--streaming", "--runner=DirectRunner"]


# -- Dataflow metadata ---------------------------------------------------------------------------------


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
    assert "streaming" not in names  # set by the launcher


@pytest.mark.parametrize("value_of", ["poll_interval", "max_rows_per_file"])
def test_dataflow_parameters_are_accepted_by_the_pipeline(value_of):
    # A template passes --name=value: the pipeline's own parser must take it.
    opts = beam_parse([f"--{value_of}=42", "--feeds=gs://b/f.txt", "--output=gs://b/out"])
    assert float(getattr(opts, value_of)) == 42


# -- the documented commands ------------------------------------------------------------------------------

DOCUMENTED = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")), *sorted(DEPLOY.rglob("*.md"))]
# $(...) in the documented commands, and what they print.
COMMAND_SUBSTITUTIONS = {
    "date +%Y%m%d-%H%M%S": "20261203-120000",
    "python deploy/flink/local/flink_local.py args": " ".join(flink_local.runner_args(types.SimpleNamespace(
        flink_master="127.0.0.1:18081", worker_pool="127.0.0.1:15000"))),
}
# gcloud dataflow flex-template build: --image excludes this group (gcloud's synopsis).
IMAGE_EXCLUDES = {"--env", "--image-gcr-path", "--flex-template-base-image", "--py-path", "--jar",
                  "--go-binary-path"}


def shell_commands(path: Path) -> Iterator[list[str]]:
    """The commands of the file's sh/bash/shell code blocks, variables and $(...) expanded."""
    text = path.read_text(encoding="utf-8")
    for block in re.findall(r"```(?:sh|bash|shell|console)\n(.*?)```", text, re.S):
        variables: dict[str, str] = {}
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            for command, output in COMMAND_SUBSTITUTIONS.items():
                line = line.replace(f"$({command})", output)
            if "$(" in line:  # other tools' commands may substitute anything; akhbar's and gcloud's must be known
                assert not re.match(r"\s*(\S*/)?(akhbar|gcloud)\s", line), \
                    f"{path.name}: add what `{line}` substitutes to COMMAND_SUBSTITUTIONS"
                continue
            line = _expand(line, variables, keep_unknown=True)
            tokens = shlex.split(line)
            if tokens and all(re.fullmatch(r"[A-Z_]+=\S*", t) for t in tokens):
                for token in tokens:
                    name, value = token.split("=", 1)
                    variables[name] = _expand(value, variables, keep_unknown=False)
                continue
            yield tokens


def _expand(text: str, variables: dict[str, str], keep_unknown: bool) -> str:
    """$NAME and ${NAME} replaced by the block's assignments (an unknown one kept, or dropped)."""
    def value(match: re.Match) -> str:
        return variables.get(match.group(1), match.group(0) if keep_unknown else "")

    for _ in range(3):
        text = re.sub(r"\$\{?([A-Z_]+)\}?", value, text)
    return text


def _akhbar_args(tokens: list[str]) -> list[str] | None:
    """The options of an `akhbar run/submit` command (also `python -m akhbar` and `.venv/bin/akhbar`)."""
    for start in range(len(tokens)):
        head = tokens[start:start + 3]
        if head[:2] in (["python", "-m"], [".venv/bin/python", "-m"]) and head[2:] == ["akhbar"]:
            rest = tokens[start + 3:]
        elif tokens[start].endswith("akhbar") and not tokens[start].startswith("-"):
            rest = tokens[start + 1:]
        else:
            continue
        if not rest or rest[0] not in ("run", "submit") or any(t.startswith("[") for t in rest):
            return None  # another command, or a usage synopsis ("[--once | --streaming]")
        args = rest[1:rest.index("|")] if "|" in rest else rest[1:]  # "--event_model none | PATH": alternatives
        return [t for t in args if t not in ("...", "…")]  # "akhbar run ... --flag": the other options
    return None


def documented_runs() -> list[tuple[str, list[str]]]:
    found = []
    for path in DOCUMENTED:
        for tokens in shell_commands(path):
            args = _akhbar_args(tokens)
            if args is not None and args[:1] not in (["-h"], ["--help"]):
                found.append((f"{path.relative_to(REPO_ROOT)}: {' '.join(tokens)[:80]}", args))
    return found


def dataflow_commands(verb: str) -> list[tuple[str, list[str]]]:
    found = []
    for path in DOCUMENTED:
        for tokens in shell_commands(path):
            if tokens[:4] == ["gcloud", "dataflow", "flex-template", verb]:
                found.append((str(path.relative_to(REPO_ROOT)), tokens))
    return found


def test_the_documents_hold_the_commands_this_test_checks():
    sources = {where.split(":")[0] for where, _ in documented_runs()}
    assert {"docs/flink.md", "deploy/dataflow/README.md"} <= sources
    assert [p for p, _ in dataflow_commands("run")] and [p for p, _ in dataflow_commands("build")]


@pytest.mark.parametrize("where,args", documented_runs(), ids=lambda v: v if isinstance(v, str) else "")
def test_documented_akhbar_commands_parse(where, args):
    if args and not args[0].startswith("--"):
        pytest.fail(f"{where}: `akhbar run` takes options only, not {args[0]!r}")
    beam_parse(args)


@pytest.mark.parametrize("where,tokens", dataflow_commands("run"), ids=lambda v: v if isinstance(v, str) else "")
def test_documented_dataflow_launch_parses_as_the_launcher_will(where, tokens):
    pairs = []
    for i, token in enumerate(tokens):
        value = tokens[i + 1] if token == "--parameters" else token.split("=", 1)[1] if token.startswith(
            "--parameters=") else None
        if value is not None:
            pairs += [p.split("=", 1) for p in value.split(",")]
    assert pairs, f"{where}: no --parameters"
    template = {p["name"] for p in json.loads((DEPLOY / "dataflow" / "metadata.json").read_text())["parameters"]}
    args = [f"--{name}={value}" for name, value in pairs]
    opts = beam_parse(launch.launcher_args(args)[1:])
    assert opts.view_as(StandardOptions).streaming
    beam_only = {name for name, _ in pairs} - template
    assert beam_only <= {"sdk_container_image"}, f"{where}: not template parameters: {sorted(beam_only)}"
    assert {"feeds", "output"} <= {name for name, _ in pairs}


@pytest.mark.parametrize("where,tokens", dataflow_commands("build"), ids=lambda v: v if isinstance(v, str) else "")
def test_documented_template_build_uses_gcloud_flags_gcloud_allows(where, tokens):
    flags = {t.split("=", 1)[0] for t in tokens if t.startswith("--")}
    if "--image" in flags:
        assert not flags & IMAGE_EXCLUDES, f"{where}: --image cannot be combined with {sorted(flags & IMAGE_EXCLUDES)}"
    metadata = tokens[tokens.index("--metadata-file") + 1]
    assert (REPO_ROOT / metadata).is_file()
