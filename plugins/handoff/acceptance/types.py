"""Field types shared by the sidecar and environment settings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer

from handoff.contract.quantities import format_seconds, parse_duration


def _duration(value: Any) -> Any:
    """Accept '24h', '30 minutes', '90s' or a number of seconds."""
    try:
        if isinstance(value, str):
            return parse_duration(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=value)
    except OverflowError:
        # pydantic reports ValueError at the field; OverflowError would escape as a traceback.
        raise ValueError(f"duration {value!r} is out of range") from None
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(lambda d: format_seconds(d.total_seconds()), return_type=str),
]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
UrlPath = Annotated[str, Field(pattern=r"^/[^\s]*$")]
Port = Annotated[int, Field(ge=1, le=65535)]

# Settings files are checked in next to the contract: they must never carry a secret.
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)", re.I)

STRICT = ConfigDict(extra="forbid", frozen=True)
