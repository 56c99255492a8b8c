"""The communication plan: Block Kit messages (pure) and their delivery through Slack."""

from __future__ import annotations

from handoff.notify.messages import Event, Message, RunRef

__all__ = ["Event", "Message", "RunRef"]
