"""The platform-neutral conversation core. Entry point: ``Core.handle(incoming) -> list[Reply]``."""

from handlers.types import Attachment, Choice, Incoming, Outcome, Reply

__all__ = ["Attachment", "Choice", "Incoming", "Outcome", "Reply"]
