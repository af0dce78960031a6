"""API: the communities (flavours) and what each asks of its visitors."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from chatserver.web.api.bodies import json_response
from chatserver.web.api.openapi import Operation
from chatserver.web.responses import services_of


class FlavourValidationOut(msgspec.Struct):
    forum_post: bool
    room_chat: bool
    spreekuur_question: bool


class FlavourOut(msgspec.Struct):
    slug: str
    name: str
    short_name: str
    tagline: str
    guests_allowed: bool
    validation_required: FlavourValidationOut


async def flavours(request: Request) -> Response:
    out = [
        FlavourOut(
            slug=f.slug,
            name=f.name,
            short_name=f.short_name,
            tagline=f.tagline,
            guests_allowed=f.chat.guests_allowed,
            validation_required=FlavourValidationOut(
                forum_post=f.validation.forum_post,
                room_chat=f.validation.room_chat,
                spreekuur_question=f.validation.spreekuur_question,
            ),
        )
        for f in services_of(request).catalog
    ]
    return json_response(out)


# i18n: the API's description (OpenAPI), for developers
OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/flavours", flavours, "De communities", None, {200: ("Communities", list[FlavourOut])}),
]
