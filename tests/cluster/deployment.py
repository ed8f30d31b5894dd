"""A real deployment on this machine: `corobot discord` and `corobot runner-node` as subprocesses, sharing the
real Redis (under a test's key prefix) and a database, against the Discord emulator in the test's process.
Used by the multi-process tests and by `benchmarks/distributed.py`.

    async with Deployment(tmp_path, fd, keys, storage_url) as d:
        node = await d.start_node("n1", max_concurrent=2)
        bot = await d.start_bot("b0", shard=0, shards=2)
        await d.wait_ready()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import yaml
from redis.asyncio import Redis

from bot.cluster.keys import Keys
from tests.fakediscord import FakeDiscord

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    port: int

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def metrics(self) -> dict[str, float]:
        """The process's /metrics, as {'name{labels}': value}."""
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{self.port}/metrics") as r:
            text = await r.text()
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{self.port}/healthz") as r:
            return r.status, await r.json()

    def kill(self, signum: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)


@dataclass
class Deployment:
    root: Path
    fd: FakeDiscord | None
    redis: Redis
    keys: Keys
    storage_url: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    cluster: dict[str, Any] = field(default_factory=lambda: {"heartbeat": 0.2, "dead_after": 1.0})
    procs: list[Proc] = field(default_factory=list)

    async def __aenter__(self) -> Deployment:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            for proc in self.procs:
                print(f"----- {proc.name} (exit {proc.process.returncode}) -----\n{proc.tail()}", file=sys.stderr)
        await self.stop_all()

    def _config(self, name: str, **extra: Any) -> Path:
        settings: dict[str, Any] = {
            "lessons_dir": str(self.root / "lessons"),
            "data_dir": str(self.root / f"data-{name}"),
            "log_level": "INFO",
            "storage": {"url": self.storage_url},
            "cluster": {"redis_url": self.redis_url, "prefix": self.keys.prefix, **self.cluster},
        }
        if self.fd is not None:
            settings["discord"] = {
                "api_base_url": self.fd.api_base,
                "gateway_url": self.fd.gateway_url,
                "rate_limit": {"runs": 100, "per_seconds": 60},
                "edit_interval": 0.5,
            }
        for section, values in extra.items():
            if isinstance(values, dict):
                settings.setdefault(section, {}).update(values)
            else:
                settings[section] = values
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(settings), encoding="utf-8")
        return path

    async def _spawn(self, name: str, command: str, **extra: Any) -> Proc:
        port = free_port()
        config = self._config(name, ops={"listen": f"127.0.0.1:{port}"}, **extra)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
        env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        if self.fd is not None:
            env["DISCORD_TOKEN"] = self.fd.token
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            argv = [sys.executable, "-m", "bot", "--config", str(config), command]
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=self.root, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        proc = Proc(name, process, log, port)
        self.procs.append(proc)
        return proc

    async def start_node(self, name: str, *, max_concurrent: int = 2, prefetch: int = 0, **runner: Any) -> Proc:
        return await self._spawn(
            name,
            "runner-node",
            cluster={"node_id": name, "prefetch": prefetch},
            runner={"max_concurrent": max_concurrent, **runner},
        )

    async def start_bot(self, name: str, *, shard: int, shards: int, **runner: Any) -> Proc:
        return await self._spawn(
            name,
            "discord",
            discord={"shard_count": shards, "shard_ids": [shard]},
            runner={"per_user": 1, "timeout_default": 10, **runner},
        )

    async def wait_ready(self, *, nodes: int, bots: int, shards: int) -> None:
        """Every node heartbeating, every bot connected (its shards READY), on the bus, and commands synced."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while loop.time() < deadline:
            dead = [p for p in self.procs if p.process.returncode is not None]
            if dead:
                raise RuntimeError(f"{dead[0].name} exited with {dead[0].process.returncode}:\n{dead[0].tail()}")
            alive = await self.redis.zcard(self.keys.nodes)
            on_bus = await self.redis.zcard(self.keys.bots)
            fd = self.fd
            connected = fd is None or (bool(fd.commands()) and len(fd.gateway.ready_shards) >= shards)
            if alive >= nodes and on_bus >= bots and connected:
                return
            await asyncio.sleep(0.1)
        states = "\n".join(f"--- {p.name}\n{p.tail(15)}" for p in self.procs)
        raise TimeoutError(f"the deployment did not become ready in {START_TIMEOUT} s\n{states}")

    async def stop(self, proc: Proc) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; the exit status."""
        proc.kill(signal.SIGTERM)
        try:
            return await asyncio.wait_for(proc.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill(signal.SIGKILL)
            return await proc.process.wait()

    async def stop_all(self) -> None:
        running = [p for p in self.procs if p.process.returncode is None]
        await asyncio.gather(*(self.stop(p) for p in running))


def lesson_files(root: Path) -> None:
    """The Discord tests' lessons plus one for bursts."""
    from tests.discord_app.env import write_lessons

    write_lessons(root)
    (root / "burst.yaml").write_text(
        textwrap.dedent(
            """
            id: burst
            title: Burst
            examples:
              - id: two
                code: |
                  import asyncio
                  async def main():
                      print("go")
                      await asyncio.sleep(2.0)
                      print("end")
                  asyncio.run(main())
            """
        ),
        encoding="utf-8",
    )
