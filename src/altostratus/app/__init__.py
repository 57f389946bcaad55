"""The composition root: the one place that builds the platform's objects and wires them together.

Each service has a wiring function here (app/<service>.py) that builds it from the shared foundation and
returns what the platform needs of it as a ServiceSlice; build_platform composes them, so adding a service
is a new wiring module and a line in build_platform.
"""

from altostratus.app.platform import Platform, build_platform, create_asgi_app, open_platform
from altostratus.app.slice import Mode, ServiceSlice

__all__ = ["Mode", "Platform", "ServiceSlice", "build_platform", "create_asgi_app", "open_platform"]
