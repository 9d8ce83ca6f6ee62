"""The Slack bot: answers about the article in threads, quoting its sentences, exactly once.

    app.py        start-up: settings, the Assistant (loaded once), bolt App, Socket Mode or HTTP server
    inbound.py    every request checked before bolt reads it: size, signature, shape (4xx or dropped, one log line)
    handlers.py   bolt listeners: mention, message, assistant side panel, /ask, feedback buttons
    responder.py  the one path every question takes: claim, rate limit, thread history, ask, post
    blocks.py     Slack text out: Block Kit for answers and notices (size limits, escaping, safe links)
    threads.py    Slack text in: markup reduced to plain words; a thread as conversation history
    delivery.py   posting a reply once through 429s, 5xx and dropped connections (`ThreadPoster`)
    state.py      what processes share: one claim per user message (exactly-once), per-user questions
                  per minute, in slack.sqlite3 under the data dir or in Redis (ASSISTANT_REDIS_URL,
                  one key prefix); behaviour when Redis fails
    feedback.py   👍/👎 storage and `assistant feedback export`
    settings.py   `SlackSettings` (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL, ASSISTANT_REDIS_URL, …)

Nothing here is imported by `import assistant`; the CLI imports `assistant.slack.app` on `assistant slack`.
"""
