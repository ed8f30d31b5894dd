"""The Redis keys of one deployment, all under one prefix (several deployments, or tests, share a Redis).

Every key carries the prefix as a hash tag (`{corobot}:...`), so all of them live in one slot: the Lua scripts
that touch several keys stay valid on a Redis Cluster too.

    {P}:runs                stream of run requests; consumer group `nodes` (one consumer per runner node)
    {P}:queue               zset run id -> ticket: admitted runs no node has started (the global FIFO)
    {P}:ticket              counter: queue order
    {P}:running             hash run id -> node id: started runs, who holds them
    {P}:run:<id>            hash: owner, reply inbox, node, started (ms), timeout, state (expires on its own)
    {P}:user:<owner>        zset run id -> expiry (ms): that member's queued + running runs
    {P}:quota:<name>:<who>  zset run id -> admit time (ms): sliding-window quotas
    {P}:nodes               zset node id -> last heartbeat (ms, Redis's clock)
    {P}:capacity            hash node id -> concurrent runs it takes
    {P}:node:<id>           hash: a node's description (host, pid, version, active runs)
    {P}:reaped:<id>         a node declared dead (it must not come back under that name)
    {P}:ctl:<id>            pub/sub channel: cancel requests for the runs a node holds
    {P}:inbox:<proc>        stream: the events of the runs a bot process asked for
    {P}:procs               counter: bot process numbers (run ids are unique across processes)
    {P}:bots                zset bot process -> last heartbeat (ms)
    {P}:bus                 pub/sub channel: actions for every bot process (lesson reloads, admin actions)
    {P}:bus:reply:<id>      list: the answers of the bot processes to one action
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "nodes"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "corobot"

    @property
    def tag(self) -> str:
        return "{" + self.prefix + "}"

    def key(self, *parts: object) -> str:
        return ":".join([self.tag, *(str(p) for p in parts)])

    @property
    def requests(self) -> str:
        return self.key("runs")

    @property
    def queue(self) -> str:
        return self.key("queue")

    @property
    def ticket(self) -> str:
        return self.key("ticket")

    @property
    def running(self) -> str:
        return self.key("running")

    def run(self, run_id: int) -> str:
        return self.key("run", run_id)

    def user(self, owner: int | None) -> str:
        return self.key("user", owner if owner is not None else "none")

    def quota(self, name: str, owner: int) -> str:
        return self.key("quota", name, owner)

    @property
    def nodes(self) -> str:
        return self.key("nodes")

    @property
    def capacity(self) -> str:
        return self.key("capacity")

    def node(self, node_id: str) -> str:
        return self.key("node", node_id)

    def reaped(self, node_id: str) -> str:
        return self.key("reaped", node_id)

    def control(self, node_id: str) -> str:
        return self.key("ctl", node_id)

    def inbox(self, process: str) -> str:
        return self.key("inbox", process)

    @property
    def procs(self) -> str:
        return self.key("procs")

    @property
    def bots(self) -> str:
        return self.key("bots")

    @property
    def bus(self) -> str:
        return self.key("bus")

    def bus_reply(self, request: str) -> str:
        return self.key("bus", "reply", request)

    def owns(self, key: str) -> bool:
        """Whether `key` is one of this deployment's (a request's reply inbox must be)."""
        return key.startswith(self.tag + ":inbox:") and len(key) < 200
