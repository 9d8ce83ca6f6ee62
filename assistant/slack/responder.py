"""Answering a Slack question off the listener thread: claim it, check the rate limit, read the
thread, ask, post. Every Slack entry point (mention, message, side panel, slash command) ends here.

Listeners only build a `Question` and `submit` it, so bolt acknowledges every request at once and a
burst of questions waits in this pool, not in Slack's 3-second ack window. Whatever goes wrong
after the claim becomes a short apology in the thread and a logged traceback; nothing propagates
into the listener threads or kills the process.

If the claim itself cannot be recorded (Redis or the SQLite file unavailable) the question is not
answered: at most once, never twice. The asker gets the apology instead, at most once per message
from this process. Replies in threads are posted through `delivery.ThreadPoster` (retries that
never post twice); a reply it gives up on is logged, not apologised for (Slack is not taking posts).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_sdk import WebClient

from assistant.errors import IndexUnavailableError
from assistant.messages import message
from assistant.query import Query
from assistant.slack.blocks import answer_message, notice_message
from assistant.slack.delivery import DeliveryFailedError, ThreadPoster
from assistant.slack.feedback import FeedbackStore
from assistant.slack.state import RateLimit, SeenEvents
from assistant.slack.threads import BotIdentity, takes_part, thread_history
from assistant.types import Answer, Language, Turn

logger = logging.getLogger(__name__)

Ask = Callable[[str, Sequence[Turn]], Answer]
"""`Assistant.ask`, or any function with its signature."""
Post = Callable[[dict], object]
"""Sends a `{"text", "blocks"}` payload to wherever the question was asked."""
Status = Callable[[str], object]


@dataclass(frozen=True)
class Question:
    key: str
    """De-duplication key (`state.message_key` / `state.command_key`)."""
    channel: str
    user: str
    text: str
    """What the person asked, as plain text (`threads.question_text`)."""
    ts: str | None = None
    """The asking message; history is what came before it."""
    thread_ts: str | None = None
    """The thread the question was asked in, if it is a reply in one: read for history."""
    only_if_taking_part: bool = False
    """A plain message in a thread: answer only where the bot was mentioned or has answered."""
    echo_question: bool = False


class Responder:
    def __init__(
        self,
        ask: Ask,
        client: WebClient,
        bot: BotIdentity,
        seen: SeenEvents,
        rate_limit: RateLimit,
        feedback: FeedbackStore,
        workers: int = 4,
        poster: ThreadPoster | None = None,
    ) -> None:
        self.ask = ask
        self.client = client
        self.bot = bot
        self.seen = seen
        self.rate_limit = rate_limit
        self.feedback = feedback
        self.poster = poster or ThreadPoster(client)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="answer")
        self._apologised: OrderedDict[str, None] = OrderedDict()
        self._apologised_lock = threading.Lock()

    def submit(self, question: Question, post: Post, status: Status | None = None) -> None:
        self._pool.submit(self._run, question, post, status)

    def close(self) -> None:
        """Finish the questions already taken, then stop."""
        self._pool.shutdown(wait=True)

    def thread_poster(self, question: Question) -> Post:
        """Posts in the question's thread (a new thread under a top-level message), once."""
        thread_ts = question.thread_ts or question.ts or ""

        def post(payload: dict) -> object:
            return self.poster.post(question.channel, thread_ts, question.key, payload, after_ts=question.ts)

        return post

    # -- the work ------------------------------------------------------------------------------

    def _run(self, question: Question, post: Post, status: Status | None) -> None:
        try:
            thread = None
            if question.only_if_taking_part:  # decide before claiming: a later mention must still get its turn
                thread = self._thread(question)
                if not takes_part(thread, self.bot):
                    return
        except Exception:
            logger.exception("Could not prepare to answer %s", question.key)
            return
        # The language the answer would be in (Query.parse's reading, "Siapa Duta Besar AS?" is
        # Indonesian though "AS" is also an English word), so an apology matches the question.
        parsed = Query.parse(question.text).language
        language: Language = parsed if parsed in ("id", "en") else "en"
        try:
            claimed = self.seen.claim(question.key)
        except Exception as exc:
            logger.error("Not answering %s: its claim could not be recorded, so another process might answer it too (%s)", question.key, exc)
            if self._first_apology(question.key):
                self._post_quietly(post, notice_message(message("apology", language)), question.key)
            return
        if not claimed:
            logger.info("Already answered or answering %s; skipping this delivery", question.key)
            return
        try:
            self._answer(question, thread, language, post, status)
        except DeliveryFailedError as exc:
            logger.error("The reply to %s could not be delivered: %s", question.key, exc)
        except Exception:
            logger.exception("Answering %s failed", question.key)
            self._post_quietly(post, notice_message(message("apology", language)), question.key)

    def _answer(self, question: Question, thread: list[dict] | None, language: Language, post: Post, status: Status | None) -> None:
        wait = self.rate_limit.wait_seconds(question.user)
        if wait:
            post(notice_message(message("rate_limited", language, seconds=wait)))
            return
        if status is not None:
            self._set_status(status, message("searching", language))
        if thread is None:
            thread = self._thread(question)
        history = thread_history(thread, question.ts, self.bot) if thread and question.ts else []
        try:
            answer = self.ask(question.text, history)
        except IndexUnavailableError:
            logger.exception("The index is unavailable")
            post(notice_message(message("index_unavailable", language)))
            return
        try:
            self.feedback.record_answer(question.key, answer, [turn.text for turn in history if turn.role == "user"])
        except Exception:  # feedback on this answer will be "lost"; the answer itself still goes out
            logger.exception("Could not record the answer to %s for feedback", question.key)
        post(answer_message(answer, question.key, echo_question=question.echo_question))

    def _thread(self, question: Question) -> list[dict]:
        if not question.thread_ts or question.thread_ts == question.ts:
            return []
        # One page (up to 200 messages) is plenty: the answerer only reads the latest turns.
        response = self.client.conversations_replies(channel=question.channel, ts=question.thread_ts, limit=200)
        return list(response.get("messages") or [])

    def _first_apology(self, key: str, remembered: int = 10_000) -> bool:
        """True once per key (per process): twin deliveries of an unclaimable question apologise once."""
        with self._apologised_lock:
            if key in self._apologised:
                return False
            self._apologised[key] = None
            while len(self._apologised) > remembered:
                self._apologised.popitem(last=False)
            return True

    @staticmethod
    def _set_status(status: Status, text: str) -> None:
        try:
            status(text)
        except Exception as exc:  # a status is a nicety (and fails in DM threads outside the side panel)
            logger.info("Could not set the assistant status: %s", exc)

    @staticmethod
    def _post_quietly(post: Post, payload: dict, key: str) -> None:
        try:
            post(payload)
        except Exception:
            logger.exception("Could not post the apology for %s either", key)
