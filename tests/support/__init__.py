"""What the tests (and benchmarks/load.py) use to stand in for Slack's side and to run the real bot:

    slack_fakes.py   Slack's servers on 127.0.0.1: a Web API that records calls, a Socket Mode
                     WebSocket server, a client that signs Events API requests; payloads as Slack sends them
    bot_process.py   the real `assistant slack` as a subprocess (one, or a group behind "one address"),
                     or its HTTP app in this process with an injected `ask`
    servers.py       real `redis-server` and `chroma run` subprocesses that tests stop and restart

Imported as `tests.support…` from the repository root (pytest's `pythonpath = ["."]`; the
benchmarks run as `python -m benchmarks.load`), so nothing edits `sys.path`.
"""
