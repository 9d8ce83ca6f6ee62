"""Posting a reply exactly once through a Web API that fails now and then.

`chat.postMessage` is not idempotent: a 500 or a dropped connection can come *after* Slack stored
the message, and a blind retry then posts it twice. So every reply carries message metadata naming
the question it answers (`event_type` `article_assistant_reply`, payload `{"question": key}`), and
`ThreadPoster.post` treats each failure by what it means:

    429 (rate limited)            not posted: wait Retry-After (capped), post again
    500-599, connection dropped   maybe posted: wait (backoff), look for the reply in the thread
    or refused, timeout           (`conversations.replies` after the question, with metadata);
                                  found: done; not found: post again; look-up failed: wait, look again
    any other error (4xx: channel_not_found, invalid_blocks, …)   raised at once

all within a `RetryBudget` (tries and seconds). When the budget runs out
`DeliveryFailedError` is raised: the reply was never confirmed and is not sent blind. slack_sdk's
own retry handlers are off for this client, so every retry of a post goes through this policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.errors import AssistantError

logger = logging.getLogger(__name__)

EVENT_TYPE = "article_assistant_reply"


class DeliveryFailedError(AssistantError):
    """A reply could not be confirmed as posted within the retry budget."""


@dataclass(frozen=True)
class RetryBudget:
    attempts: int = 8
    """Tries for one reply. A try after a failure that may have posted first looks for the reply."""
    seconds: float = 60.0
    """No wait starts that would end later than this after the first attempt."""
    backoff: float = 0.5
    """First wait after a 5xx or a connection error; doubles each time, up to `max_backoff`."""
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    """A longer Retry-After is shortened to this (and still bounded by `seconds`)."""


DEFAULT_BUDGET = RetryBudget()
"""Up to 8 tries in a minute: backoff waits of 0.5, 1, 2, 4, 8, 8, 8 s (31.5 s) fit, plus Retry-Afters."""


def reply_metadata(key: str) -> dict:
    return {"event_type": EVENT_TYPE, "event_payload": {"question": key}}


def answers(message: dict, key: str) -> bool:
    metadata = message.get("metadata") or {}
    return metadata.get("event_type") == EVENT_TYPE and (metadata.get("event_payload") or {}).get("question") == key


class ThreadPoster:
    def __init__(
        self,
        client: WebClient,
        budget: RetryBudget = DEFAULT_BUDGET,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.budget = budget
        self.sleep = sleep
        self.clock = clock

    def post(self, channel: str, thread_ts: str, key: str, payload: dict, *, after_ts: str | None = None) -> dict:
        """Post `payload` in the thread once; returns the posted message as Slack returned it.

        `after_ts`: the question's ts, so the look-up reads only messages after it."""
        budget = self.budget
        deadline = self.clock() + budget.seconds
        backoff = budget.backoff
        maybe_posted = False
        problem = "no attempt"
        for attempt in range(1, budget.attempts + 1):
            looking = maybe_posted
            try:
                if looking:
                    found = self._find(channel, thread_ts, key, after_ts)
                    if found is not None:
                        logger.info("The reply to %s was posted after all (found at %s); not posting it again", key, found.get("ts"))
                        return found
                    looking = False
                response = self.client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, metadata=reply_metadata(key), unfurl_links=False, unfurl_media=False, **payload
                )
                return dict(response.get("message") or {"ts": response.get("ts"), "channel": channel})
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    pause = min(_retry_after(exc.response.headers), budget.max_retry_after)
                elif status >= 500:
                    maybe_posted = True
                    pause, backoff = backoff, min(backoff * 2, budget.max_backoff)
                else:
                    raise
                problem = f"{'conversations.replies' if looking else 'chat.postMessage'}: HTTP {status}"
            except OSError as exc:  # refused, reset, dropped mid-response, timed out (URLError is an OSError)
                maybe_posted = True
                pause, backoff = backoff, min(backoff * 2, budget.max_backoff)
                problem = f"{'conversations.replies' if looking else 'chat.postMessage'}: {type(exc).__name__}: {exc}"
            if attempt == budget.attempts or self.clock() + pause > deadline:
                break
            logger.warning("Reply to %s not delivered yet (%s); attempt %d of %d in %.1f s", key, problem, attempt + 1, budget.attempts, pause)
            self.sleep(pause)
        raise DeliveryFailedError(f"Gave up on the reply to {key} after {attempt} attempt(s), last: {problem}. Not posting it blind.")

    def _find(self, channel: str, thread_ts: str, key: str, after_ts: str | None) -> dict | None:
        """Our reply to `key` in the thread, if Slack has it. Raises like any Web API call."""
        # slack_sdk leaves out arguments that are None: without `after_ts` the whole thread is read.
        response = self.client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, oldest=after_ts, inclusive=False if after_ts else None
        )
        return next((message for message in response.get("messages") or [] if answers(message, key)), None)


def _retry_after(headers: dict) -> float:
    value = next((value for name, value in (headers or {}).items() if name.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0
