"""Matrix transport (matrix-nio + vodozemac). ``from bot.transports.matrix import MatrixTransport``."""

from bot.transports.matrix.admin import reset_device, trust_device
from bot.transports.matrix.transport import MatrixTransport, StoreMismatchError

__all__ = ["MatrixTransport", "StoreMismatchError", "reset_device", "trust_device"]
