"""The app manifest asks for what the bot listens to and uses, and nothing it does not use."""

from __future__ import annotations

import yaml
from bot_process import REPO


def test_manifest_matches_the_listeners():
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    }
    assert [command["command"] for command in manifest["features"]["slash_commands"]] == ["/ask"]
    assert "assistant_view" in manifest["features"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
        "chat:write",
        "commands",
        "assistant:write",
    }
