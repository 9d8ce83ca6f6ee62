"""The app manifest asks for what the bot listens to and uses, and nothing it does not use.

The listeners are read from the real bolt app: `build_app` runs with bolt's `App` replaced by a
subclass that notes every registration before passing it on. A listener added to
`assistant.slack.handlers` therefore fails this test until the manifest (and `NEEDS` below, which
says what each kind of listener needs from the manifest) says so too.
"""

from __future__ import annotations

import re

import pytest
import yaml
from slack_bolt import App

from tests.support.bot_process import BOT_TOKEN, REPO, SIGNING_SECRET
from tests.support.slack_fakes import FakeSlackAPI

REGISTERING = (
    "event", "message", "function", "command", "shortcut", "global_shortcut", "message_shortcut", "action", "block_action",
    "attachment_action", "dialog_submission", "dialog_cancellation", "view", "view_submission", "view_closed", "options",
    "block_suggestion", "dialog_suggestion", "assistant",
)  # fmt: skip
"""Every `App` method that registers a listener (and `assistant`, which adds the side panel's)."""

NEEDS = {
    ("event", "app_mention"): {"bot_events": {"app_mention"}, "scopes": {"app_mentions:read"}},
    ("event", "message"): {
        "bot_events": {"message.channels", "message.groups", "message.im", "message.mpim"},
        "scopes": {"channels:history", "groups:history", "im:history", "mpim:history"},
    },
    ("assistant", None): {
        "bot_events": {"assistant_thread_started", "assistant_thread_context_changed"},
        "scopes": {"assistant:write"},
        "features": {"assistant_view"},
    },
    ("command", "/ask"): {"commands": {"/ask"}, "scopes": {"commands"}},
    ("action", "feedback"): {"interactivity": True},
}
"""What one registration needs from the manifest. Every reply is posted with chat:write."""


class RecordingApp(App):
    """bolt's App, noting (kind, what) for every registration."""

    def __init__(self, *args, **kwargs) -> None:
        self.registered: list[tuple[str, object]] = []
        super().__init__(*args, **kwargs)


def _recording(kind: str):
    def register(self, *args, **kwargs):
        self.registered.append((kind, args[0] if args and kind != "assistant" else None))
        return getattr(App, kind)(self, *args, **kwargs)

    return register


for _kind in REGISTERING:
    setattr(RecordingApp, _kind, _recording(_kind))


@pytest.fixture(scope="module")
def registered(tmp_path_factory) -> list[tuple[str, object]]:
    from assistant.settings import Settings
    from assistant.slack import app as slack_app
    from assistant.slack.settings import SlackSettings

    api = FakeSlackAPI().start()
    patch = pytest.MonkeyPatch()
    patch.setattr(slack_app, "App", RecordingApp)
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("manifest"))
        slack = SlackSettings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=api.api_url, _env_file=None)
        app, responder = slack_app.build_app(settings, slack, ask=lambda question, history: None)
        responder.close()
    finally:
        patch.undo()
        api.stop()
    # Every listener bolt holds was noted: none came in through a method this test does not know.
    assert len(app._listeners) == sum(kind != "assistant" for kind, _ in app.registered)
    return app.registered


def needs_of(kind: str, what: object) -> dict:
    key = "feedback" if isinstance(what, re.Pattern) and "feedback" in what.pattern else what
    if (kind, key) not in NEEDS:
        pytest.fail(f"The bot registers a new listener, {kind}({what!r}): add what it needs to slack/manifest.yaml and to NEEDS in this test.")
    return NEEDS[(kind, key)]


def test_manifest_subscribes_to_exactly_what_the_app_listens_to(registered):
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    needs = [needs_of(kind, what) for kind, what in registered]
    settings = manifest["settings"]

    assert set(settings["event_subscriptions"]["bot_events"]) == set().union(*(need.get("bot_events", set()) for need in needs))
    assert {command["command"] for command in manifest["features"].get("slash_commands", [])} == set().union(*(need.get("commands", set()) for need in needs))
    assert settings["interactivity"]["is_enabled"] is any(need.get("interactivity", False) for need in needs)
    wanted_features = set().union(*(need.get("features", set()) for need in needs))
    assert {"assistant_view", "shortcuts"} & set(manifest["features"]) == wanted_features
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"chat:write"}.union(*(need.get("scopes", set()) for need in needs))
    assert settings["socket_mode_enabled"] is True  # the manifest as written runs `assistant slack` (Socket Mode)

