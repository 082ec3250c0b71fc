#!/usr/bin/env python3
"""A real standalone Flink cluster on 127.0.0.1 for akhbar's Flink runs and tests.

    python deploy/flink/local/flink_local.py fetch     # Flink 1.19 + Beam's Flink job server, into .cache/flink
    python deploy/flink/local/flink_local.py fetch-jobserver   # only the job server + expansion service jars
    python deploy/flink/local/flink_local.py start     # JobManager, TaskManager, Beam worker pool
    python deploy/flink/local/flink_local.py status
    python deploy/flink/local/flink_local.py stop

Where the pieces come from (package registries only, no Docker):

* Flink: the distribution jars (flink-dist, lib/, bin/bash-java-utils.jar)
  inside PyPI's ``apache-flink-libraries`` sdist; Flink's own shell scripts
  are not in it, so the JobManager and TaskManager JVMs are started here the
  way ``jobmanager.sh``/``taskmanager.sh`` start them, with the memory
  settings computed by Flink's ``BashJavaUtils``.
* Beam's Flink job server: Maven Central does not serve the
  ``beam-runners-flink-*-job-server`` shadow jar here, so ``jobserver-pom.xml``
  resolves ``beam-runners-flink-1.19`` (2.62.0, the newest complete set
  served) and its dependencies, and a small launcher jar (a manifest whose
  Class-Path lists them) makes it runnable with ``java -jar``, which is what
  ``--flink_job_server_jar`` expects. A second launcher runs Beam's Java
  expansion service from the same jars (the streaming tick source, see
  ``pipelines/flink.py``).

State (pids, config, logs, checkpoints) lives in ``.cache/flink/cluster``;
``stop`` ends exactly the processes that ``start`` recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("AKHBAR_FLINK_CACHE", REPO_ROOT / ".cache" / "flink"))
FLINK_VERSION = "1.19.3"
FLINK_MINOR = "1.19"
FLINK_HOME = CACHE / f"flink-{FLINK_VERSION}"
JOBSERVER_DIR = CACHE / "jobserver"
JOBSERVER_JAR = JOBSERVER_DIR / "beam-flink-job-server.jar"
POM = Path(__file__).resolve().parent / "jobserver-pom.xml"
STATE_DIR = CACHE / "cluster"

REST_PORT = int(os.environ.get("AKHBAR_FLINK_REST_PORT", "18081"))
RPC_PORT = int(os.environ.get("AKHBAR_FLINK_RPC_PORT", "16123"))
WORKER_POOL_PORT = int(os.environ.get("AKHBAR_WORKER_POOL_PORT", "15000"))

# Modest sizes: the dev machine and CI have 2 cores and 24 GiB shared with other work.
CONF = {
    "jobmanager.rpc.address": "127.0.0.1",
    "jobmanager.bind-host": "127.0.0.1",
    "jobmanager.rpc.port": str(RPC_PORT),
    "jobmanager.memory.process.size": "768m",
    "taskmanager.bind-host": "127.0.0.1",
    "taskmanager.host": "127.0.0.1",
    "taskmanager.memory.process.size": "1280m",
    "taskmanager.memory.managed.fraction": "0.1",
    "taskmanager.numberOfTaskSlots": "2",
    "parallelism.default": "2",
    "rest.address": "127.0.0.1",
    "rest.bind-address": "127.0.0.1",
    "rest.port": str(REST_PORT),
    "blob.server.port": "0",
    "taskmanager.rpc.port": "0",
    "taskmanager.data.port": "0",
    "state.backend.type": "hashmap",
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "restart-strategy.type": "fixed-delay",
    "restart-strategy.fixed-delay.attempts": "100",
    "restart-strategy.fixed-delay.delay": "2 s",
    # A killed TaskManager is noticed in seconds, not the default 50 s.
    "heartbeat.interval": "2000",
    "heartbeat.timeout": "10000",
    "slot.request.timeout": "120000",
    "resourcemanager.taskmanager-timeout": "600000",
}

LOG4J = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
"""


class ClusterError(RuntimeError):
    pass


def _log(message: str) -> None:
    print(f"[flink-local] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- fetch


def java_available() -> bool:
    return shutil.which("java") is not None


def fetched() -> bool:
    return (FLINK_HOME / "lib" / f"flink-dist-{FLINK_VERSION}.jar").is_file() and JOBSERVER_JAR.is_file() \
        and (JOBSERVER_DIR / "beam-expansion-service.jar").is_file()


def fetch_flink() -> None:
    if (FLINK_HOME / "lib" / f"flink-dist-{FLINK_VERSION}.jar").is_file():
        return
    pip_dir = CACHE / "pip"
    pip_dir.mkdir(parents=True, exist_ok=True)
    sdist = pip_dir / f"apache-flink-libraries-{FLINK_VERSION}.tar.gz"
    if not sdist.is_file():
        _log(f"downloading apache-flink-libraries=={FLINK_VERSION} from PyPI")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-d", str(pip_dir), f"apache-flink-libraries=={FLINK_VERSION}"],
            check=True,
        )
    prefix = f"apache-flink-libraries-{FLINK_VERSION}/deps/"
    tmp = CACHE / f".flink-{FLINK_VERSION}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(sdist) as tar:
        members = []
        for member in tar.getmembers():
            if member.name.startswith(prefix) and (member.isfile() or member.isdir()):
                member.name = member.name[len(prefix):]
                if member.name:
                    members.append(member)
        tar.extractall(tmp, members=members, filter="data")
    shutil.rmtree(FLINK_HOME, ignore_errors=True)
    tmp.rename(FLINK_HOME)
    _log(f"Flink {FLINK_VERSION} in {FLINK_HOME}")


JOB_SERVER_MAIN = "org.apache.beam.runners.flink.FlinkJobServerDriver"
EXPANSION_SERVICE_MAIN = "org.apache.beam.sdk.expansion.service.ExpansionService"
EXPANSION_JAR = JOBSERVER_DIR / "beam-expansion-service.jar"


def write_launcher_jar(lib_dir: Path, jar: Path, main_class: str) -> None:
    """A jar with only a manifest: Main-Class is a Beam service, Class-Path the resolved jars."""
    jars = sorted(p.name for p in lib_dir.glob("*.jar"))
    if not any(name.startswith(f"beam-runners-flink-{FLINK_MINOR}-") for name in jars):
        raise ClusterError(f"no beam-runners-flink-{FLINK_MINOR} jar in {lib_dir}")
    class_path = " ".join(f"{lib_dir.name}/{name}" for name in jars)
    lines = ["Manifest-Version: 1.0", f"Main-Class: {main_class}", f"Class-Path: {class_path}"]
    wrapped: list[str] = []
    for line in lines:  # manifest lines are at most 72 bytes; continuations start with a space
        data = line.encode()
        wrapped.append(data[:72].decode())
        data = data[72:]
        while data:
            wrapped.append(" " + data[:71].decode())
            data = data[71:]
    tmp = jar.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "\r\n".join(wrapped) + "\r\n\r\n")
    tmp.rename(jar)


def fetch_job_server() -> None:
    if JOBSERVER_JAR.is_file() and EXPANSION_JAR.is_file():
        return
    lib = JOBSERVER_DIR / "lib"
    if not list(lib.glob("*.jar")) and shutil.which("mvn") is None:
        raise ClusterError("Maven (mvn) is needed to fetch Beam's Flink job server: apt-get install maven")
    if not list(lib.glob(f"beam-runners-flink-{FLINK_MINOR}-*.jar")):
        _log("resolving Beam's Flink job server from Maven Central")
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
             f"-DoutputDirectory={lib}", "-DincludeScope=runtime"],
            check=True,
        )
    write_launcher_jar(lib, JOBSERVER_JAR, JOB_SERVER_MAIN)
    write_launcher_jar(lib, EXPANSION_JAR, EXPANSION_SERVICE_MAIN)
    _log(f"job server launcher: {JOBSERVER_JAR}; expansion service: {EXPANSION_JAR}")


def fetch() -> None:
    if not java_available():
        raise ClusterError("java is not on PATH: Flink needs a JDK 11 or 17")
    fetch_flink()
    fetch_job_server()


# ---------------------------------------------------------------- processes


@dataclass
class Cluster:
    """Handles on the processes of one local cluster, persisted in STATE_DIR/pids.json."""

    state_dir: Path = STATE_DIR
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{REST_PORT}"

    @property
    def flink_master(self) -> str:
        return f"127.0.0.1:{REST_PORT}"

    @property
    def worker_pool(self) -> str:
        return f"127.0.0.1:{WORKER_POOL_PORT}"

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def checkpoint_dir(self) -> Path:
        return self.state_dir / "checkpoints"

    def _save(self) -> None:
        (self.state_dir / "pids.json").write_text(json.dumps(self.pids))

    @classmethod
    def load(cls, state_dir: Path = STATE_DIR) -> Cluster:
        path = state_dir / "pids.json"
        pids = json.loads(path.read_text()) if path.is_file() else {}
        return cls(state_dir=state_dir, pids=pids)

    # -- configuration

    def write_conf(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        conf = dict(CONF)
        conf["state.checkpoints.dir"] = self.checkpoint_dir.resolve().as_uri()
        conf["io.tmp.dirs"] = str((self.state_dir / "tmp").resolve())
        (self.state_dir / "tmp").mkdir(exist_ok=True)
        (self.conf_dir / "config.yaml").write_text("".join(f"{k}: {v}\n" for k, v in conf.items()))
        (self.conf_dir / "log4j.properties").write_text(LOG4J)

    def _classpath(self) -> str:
        lib = FLINK_HOME / "lib"
        jars = sorted(str(p) for p in lib.glob("*.jar") if not p.name.startswith("flink-dist"))
        return os.pathsep.join([*jars, str(lib / f"flink-dist-{FLINK_VERSION}.jar")])

    def _resource_params(self, command: str) -> tuple[list[str], list[str]]:
        """JVM flags and -D settings for a JobManager/TaskManager, as Flink's scripts compute them."""
        cp = os.pathsep.join([str(FLINK_HOME / "bin" / "bash-java-utils.jar"), self._classpath()])
        out = subprocess.run(
            ["java", "-Xmx128m", "-cp", cp, "org.apache.flink.runtime.util.bash.BashJavaUtils", command,
             "--configDir", str(self.conf_dir)],
            check=True, capture_output=True, text=True,
        ).stdout
        results = [line.split(":", 1)[1] for line in out.splitlines() if line.startswith("BASH_JAVA_UTILS_EXEC_RESULT:")]
        if len(results) < 2:
            raise ClusterError(f"BashJavaUtils {command} printed no result: {out[-2000:]}")
        jvm_params, dynamic = results[-2], results[-1]
        return jvm_params.split(), dynamic.split()

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> int:
        out = (self.log_dir / f"{name}.out").open("ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True, cwd=REPO_ROOT)
        self.pids[name] = proc.pid
        self._save()
        return proc.pid

    def _java(self, name: str, main_class: str, jvm: list[str], args: list[str]) -> list[str]:
        return [
            "java", *jvm,
            f"-Dlog.file={self.log_dir / (name + '.log')}",
            f"-Dlog4j.configurationFile=file:{self.conf_dir / 'log4j.properties'}",
            "-cp", self._classpath(), main_class, "--configDir", str(self.conf_dir), *args,
        ]

    def start_jobmanager(self) -> None:
        jvm, dynamic = self._resource_params("GET_JM_RESOURCE_PARAMS")
        self._spawn("jobmanager", self._java(
            "jobmanager", "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", jvm,
            ["--executionMode", "cluster", *dynamic]))

    def start_taskmanager(self, name: str = "taskmanager") -> None:
        jvm, dynamic = self._resource_params("GET_TM_RESOURCE_PARAMS")
        self._spawn(name, self._java(name, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", jvm, dynamic))

    def start_worker_pool(self) -> None:
        """Beam's Python worker pool: the EXTERNAL environment the TaskManagers ask for SDK workers."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        # The pool starts each SDK worker as `python -c ...`: make that this interpreter.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self._spawn("worker_pool", [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                                    f"--service_port={WORKER_POOL_PORT}"], env=env)

    def start(self, timeout_s: float = 120) -> None:
        if not fetched():
            raise ClusterError("Flink is not fetched: run `python deploy/flink/local/flink_local.py fetch`")
        if self.alive():
            raise ClusterError(f"a local cluster already runs (pids {self.pids}); stop it first")
        taken = [f"127.0.0.1:{port} ({what})" for port, what in
                 ((REST_PORT, "REST"), (RPC_PORT, "RPC"), (WORKER_POOL_PORT, "worker pool")) if _port_open(port)]
        if taken:  # another cluster (a leftover, another checkout) would get this one's jobs
            raise ClusterError(f"already in use: {', '.join(taken)}; stop the other cluster, or set "
                               "AKHBAR_FLINK_REST_PORT / AKHBAR_FLINK_RPC_PORT / AKHBAR_WORKER_POOL_PORT")
        self.pids = {}
        self.write_conf()
        self.start_jobmanager()
        self.start_taskmanager()
        self.start_worker_pool()
        self.wait_ready(timeout_s)

    # -- state

    def alive(self) -> dict[str, int]:
        return {name: pid for name, pid in self.pids.items() if _pid_alive(pid)}

    def rest(self, path: str, method: str = "GET", timeout_s: float = 5):
        request = urllib.request.Request(self.rest_url + path, method=method)
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
        return json.loads(body) if body else None

    def registered_taskmanagers(self) -> int:
        try:
            return int(self.rest("/overview")["taskmanagers"])
        except OSError:
            return -1

    def wait_ready(self, timeout_s: float = 120, taskmanagers: int = 1) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = set(self.pids) - set(self.alive())
            if dead:
                raise ClusterError(f"{sorted(dead)} exited at start; see {self.log_dir}")
            if self.registered_taskmanagers() >= taskmanagers and _port_open(WORKER_POOL_PORT):
                return
            time.sleep(1)
        raise ClusterError(f"the cluster was not ready within {timeout_s:.0f}s; see {self.log_dir}")

    def kill(self, name: str) -> None:
        """SIGKILL one process (a TaskManager crash, for the recovery test)."""
        pid = self.pids.get(name)
        if pid is None or not _pid_alive(pid):
            raise ClusterError(f"{name} is not running")
        os.killpg(pid, signal.SIGKILL)
        _wait_gone(pid, 10)

    def stop(self) -> None:
        for name in ("worker_pool", *[n for n in self.pids if n.startswith("taskmanager")], "jobmanager"):
            pid = self.pids.get(name)
            if pid is None or not _pid_alive(pid):
                continue
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            if not _wait_gone(pid, 15):
                os.killpg(pid, signal.SIGKILL)
                _wait_gone(pid, 5)
        self.pids = {}
        self._save()

    def jobs(self) -> list[dict]:
        return self.rest("/jobs/overview")["jobs"]

    def cancel_job(self, job_id: str) -> None:
        self.rest(f"/jobs/{job_id}?mode=cancel", method="PATCH")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still answers kill(0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not _pid_alive(pid):
            return True
        time.sleep(0.2)
    return False


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def runner_args(cluster: Cluster | None = None) -> list[str]:
    """The Beam flags that run akhbar on this cluster (or on embedded Flink when cluster is None)."""
    args = ["--runner=FlinkRunner", f"--flink_version={FLINK_MINOR}", f"--flink_job_server_jar={JOBSERVER_JAR}"]
    if cluster is None:
        return [*args, "--flink_master=[local]", "--environment_type=LOOPBACK"]
    return [*args, f"--flink_master={cluster.flink_master}", "--environment_type=EXTERNAL",
            f"--environment_config={cluster.worker_pool}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fetch", "fetch-jobserver", "start", "stop", "status", "args"])
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            fetch()
        elif args.command == "fetch-jobserver":  # the Docker image: Flink itself runs in the operator's image
            fetch_job_server()
        elif args.command == "start":
            cluster = Cluster()
            cluster.start()
            print(f"Flink {FLINK_VERSION} on {cluster.rest_url} (web UI), worker pool on {cluster.worker_pool}")
            print("run akhbar on it with:", " ".join(runner_args(cluster)))
        elif args.command == "stop":
            Cluster.load().stop()
        elif args.command == "status":
            cluster = Cluster.load()
            print(json.dumps({"alive": cluster.alive(), "taskmanagers": cluster.registered_taskmanagers()}))
        elif args.command == "args":
            print(" ".join(runner_args(Cluster.load() if Cluster.load().alive() else None)))
    except ClusterError as exc:
        print(f"flink_local: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
