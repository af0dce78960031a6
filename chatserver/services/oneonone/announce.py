"""What the 1-on-1 feature tells live: lines and steps in a chat, notices to staff, queue changes, positions.

Stored events (``chat.emit``) for what belongs to a chat's or a queue's history; live notices (``chat.notify``)
for what is only true now (a staff member's own notices, a waiting visitor's position).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from chatserver.domain import oneonone as rules
from chatserver.domain.channels import queue_channel, user_channel
from chatserver.protocol.events import (
    ChatAssigned,
    ChatCrisis,
    ChatStep,
    ChatToolCard,
    ChatTransfer,
    QueueChange,
    QueuePosition,
    StaffChatNotice,
    SystemLine,
)

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.ports import Document, OneOnOneStore
    from chatserver.services.chat import ChatService
    from chatserver.services.shifts import ShiftService

ChatEvent = ChatAssigned | ChatCrisis | ChatStep | ChatTransfer | ChatToolCard
QueueEvent = Literal["joined", "accepted", "escalated", "reoffered", "left", "ended", "risk"]
StaffEvent = Literal["assigned", "taken_over", "visitor_gone"]


class Announcer:
    def __init__(self, repo: OneOnOneStore, shifts: ShiftService, chat: ChatService, clock: Clock) -> None:
        self.repo = repo
        self.shifts = shifts
        self.chat = chat
        self.clock = clock

    async def line(self, doc: Document, text: str) -> None:
        """A Dutch line for both sides of the chat."""
        await self.chat.emit(str(doc["channel"]), SystemLine(text=text))

    async def step(self, doc: Document, event: ChatEvent) -> None:
        """A step of the chat (assigned, escalating, consent, ended, …) for the pages of both sides."""
        await self.chat.emit(str(doc["channel"]), event)

    async def tell_staff(self, account_id: str, event: StaffEvent, chat_id: str) -> None:
        await self.chat.notify(user_channel(account_id), StaffChatNotice(event=event, chat_id=chat_id))

    async def queue_changed(self, flavour: str, event: QueueEvent, chat_id: str) -> None:
        """The consoles of the flavour hear what changed in the queue; everyone waiting hears their position."""
        waiting = await self.repo.waiting([flavour])
        entries = [rules.waiting_entry(d) for d in waiting]
        change = QueueChange(
            event=event,
            chat_id=chat_id,
            waiting=len(entries),
            longest_wait_s=rules.longest_wait_s(entries, self.clock()),
            staff_on_shift=await self.shifts.staff_count(flavour),
        )
        await self.chat.emit(queue_channel(flavour), change)
        await self.notify_positions(flavour, waiting)

    async def free_slots(self, flavour: str) -> int:
        free = 0
        for doc in await self.shifts.on_shift(flavour):
            free += max(0, int(doc["capacity"]) - await self.repo.count_active_of_staff(str(doc["_id"])))
        return free

    async def position_view(self, doc: Document, waiting: list[Document] | None = None) -> dict[str, Any]:
        """Position, estimate and staff count for the visitor of a waiting chat."""
        flavour = str(doc["flavour"])
        waiting = waiting if waiting is not None else await self.repo.waiting([flavour])
        position = rules.position_of([rules.waiting_entry(d) for d in waiting], str(doc["_id"])) or 1
        staff = await self.shifts.staff_count(flavour)
        free = await self.free_slots(flavour) if staff else 0
        return {
            "chat_id": str(doc["_id"]),
            "status": "waiting",
            "position": position,
            "estimated_wait_min": rules.estimate_wait_min(position, staff, free),
            "staff_on_shift": staff,
        }

    async def notify_positions(self, flavour: str, waiting: list[Document] | None = None) -> None:
        waiting = waiting if waiting is not None else await self.repo.waiting([flavour])
        for doc in waiting:
            view = await self.position_view(doc, waiting)
            notice = QueuePosition(
                chat_id=view["chat_id"],
                position=view["position"],
                estimated_wait_min=view["estimated_wait_min"],
                staff_on_shift=view["staff_on_shift"],
            )
            await self.chat.notify(user_channel(str(doc["visitor_id"])), notice)
