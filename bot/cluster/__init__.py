"""Several processes over Redis (README "Running at scale").

- `remote.py`, `remote_run.py`, `admission.py`, `view.py`: the bot-process side — `RemoteRunner`, a `RunnerLike`
  whose runs go to runner nodes; each run's events read without trust.
- `node.py`, `node_state.py`, `node_upkeep.py`, `serve.py`: `corobot runner-node` — a warm sandboxed `Runner` serving
  run requests, heartbeats, reaping, taking over a lost node's requests.
- `scripts.py` (every Lua script: each change of a run's place is one atomic step), `keys.py`, `request.py`
  (the wire), `streams.py`, `connection.py`.
- `bus.py`: `Peers` over pub/sub — actions every bot process performs (lesson reloads, admin actions).

Nothing here is imported unless `cluster.redis_url` is set.
"""
