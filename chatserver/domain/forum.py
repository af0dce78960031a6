"""Pure rules of the forum: text cleaning and limits, the search words of a text, quotes, pages, ranking, links.

No I/O: the forum service (``chatserver.services.forum``) stores and reads; these functions shape the documents
and decide. Search works without a text index (the embedded database has none): every post keeps its normalised
words (``search_terms``) and a query matches on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chatserver.domain.identity import Actor
from chatserver.i18n import N_

PostStatus = Literal["visible", "held", "hidden"]
Doc = dict[str, Any]

PAGE_SIZE = 20
MIN_TITLE_CHARS = 5
MAX_TITLE_CHARS = 120
MIN_BODY_CHARS = 2
MAX_BODY_CHARS = 20_000
MAX_REASON_CHARS = 500
MAX_QUERY_TERMS = 8
MAX_SEARCH_TERMS = 400
SEARCH_RESULTS = 20
MAX_ID_CHARS = 64
QUOTE_LINES = 40

# i18n: Dutch stop words for the search, not a text
_STOPWORD_TEXT = (
    "de het een en van in op te dat die is ik je jij we wij ze zij hij er met voor aan om maar ook als dan "
    "nog wel niet geen bij uit of tot naar over zo wat wie hoe waar mijn jouw zijn haar hun dit deze al was"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of threads or posts: the items, how many there are in all, this page's number and the count."""

    items: list[Doc]
    total: int
    page: int
    pages: int


def fold(text: str) -> str:
    """Lower-cased, accent-folded text (``Één café`` → ``een cafe``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_terms(text: str) -> list[str]:
    """The normalised words of a text for the search index: folded, without stop words, unique, capped."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(fold(text)):
        if len(token) >= 2 and token not in STOPWORDS:
            seen.setdefault(token[:40], None)
        if len(seen) >= MAX_SEARCH_TERMS:
            break
    return list(seen)


def clean_text(value: str, limit: int) -> str:
    """Trimmed, capped NFC text without control characters or lone surrogates (newlines kept)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return value.replace("\r", "").strip()[:limit]


def clean_title(value: str) -> str:
    """A title on one line: cleaned, inner whitespace collapsed, one character over the limit kept for the check."""
    return " ".join(clean_text(value, MAX_TITLE_CHARS + 1).split())


def quote_of(post: Mapping[str, Any]) -> str:
    """The Markdown blockquote that a reply quoting ``post`` starts with."""
    lines = str(post.get("body", "")).splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines[:QUOTE_LINES])
    return f"> **{post.get('author_pseudonym', '')}** schreef:\n>\n{quoted}\n\n"


def pages_for(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


def page_of(position: int) -> int:
    """The page a post is on when ``position`` readable posts come before it."""
    return position // PAGE_SIZE + 1


def skip_for(number: int) -> int:
    return (number - 1) * PAGE_SIZE


def is_forum_staff(actor: Actor | None, flavour: str) -> bool:
    return actor is not None and actor.staff_in(flavour)


def author_or_staff(actor: Actor | None, flavour: str, doc: Mapping[str, Any]) -> bool:
    """Whether ``actor`` wrote ``doc`` or is staff of the flavour (who may see a held thread or post)."""
    if actor is None:
        return False
    return doc.get("author_id") == actor.account_id or is_forum_staff(actor, flavour)


def readable(actor: Actor | None, flavour: str, doc: Mapping[str, Any]) -> bool:
    """A visible thread or post for everyone; a held one for its author and the flavour's staff."""
    if doc.get("status") == "visible":
        return True
    return doc.get("status") == "held" and author_or_staff(actor, flavour, doc)


def can_edit(actor: Actor | None, flavour: str, thread: Mapping[str, Any], post: Mapping[str, Any]) -> bool:
    """Staff edit every post that is not hidden; an author their own, while the thread is open."""
    if actor is None or actor.is_guest or post.get("status") == "hidden":
        return False
    if actor.staff_in(flavour):
        return True
    return post.get("author_id") == actor.account_id and not thread.get("locked")


def fragment_url(flavour: str, thread_id: str, post_id: str) -> str:
    """Where the live client fetches one post as HTML."""
    return f"/f/{flavour}/forum/t/{thread_id}/p/{post_id}"


def post_url(flavour: str, post: Mapping[str, Any]) -> str:
    """The link that opens the page a post is on, scrolled to it."""
    return f"/f/{flavour}/forum/t/{post['thread_id']}/p/{post['_id']}/ga"


def follow_text(author: str, title: str) -> str:
    return N_("Nieuwe reactie van %(author)s in “%(title)s”") % {"author": author, "title": title}


def new_post(
    post_id: str, author: Actor, flavour: str, thread_id: str, category: str, body: str, title: str, now: datetime
) -> Doc:
    """A post as it is stored; ``title`` is the thread's title for its first post, "" for a reply."""
    return {
        "_id": post_id,
        "thread_id": thread_id,
        "flavour": flavour,
        "category": category,
        "author_id": str(author.account_id),
        "author_pseudonym": author.pseudonym,
        "author_role": author.role if author.is_staff else None,
        "body": body,
        "status": "visible",
        "created_at": now,
        "edited_at": None,
        "version": 1,
        "search_terms": search_terms(f"{title}\n{body}"),
        "moderation_item": None,
        "first": title != "",
    }


def new_thread(
    thread_id: str, author: Actor, flavour: str, category: str, title: str, first_post: Doc, now: datetime
) -> Doc:
    return {
        "_id": thread_id,
        "flavour": flavour,
        "category": category,
        "title": title,
        "author_id": str(author.account_id),
        "author_pseudonym": author.pseudonym,
        "author_role": author.role if author.is_staff else None,
        "status": first_post["status"],
        "pinned": False,
        "locked": False,
        "created_at": now,
        "last_post_at": now,
        "reply_count": 0,
        "first_post_id": first_post["_id"],
    }


def revision_of(
    revision_id: str, post: Mapping[str, Any], old_title: str | None, editor_id: str, editor: str, now: datetime
) -> Doc:
    """The current version of a post, kept in its history before an edit replaces it."""
    return {
        "_id": revision_id,
        "post_id": str(post["_id"]),
        "thread_id": str(post["thread_id"]),
        "flavour": str(post["flavour"]),
        "author_id": str(post["author_id"]),
        "author_pseudonym": str(post.get("author_pseudonym", "")),
        "version": int(post.get("version", 1)),
        "body": str(post.get("body", "")),
        "title": old_title,
        "written_at": post.get("edited_at") or post.get("created_at"),
        "replaced_at": now,
        "replaced_by": editor if editor_id != post.get("author_id") else "",
    }


def rank(
    candidates: Iterable[Doc], threads: Mapping[str, Doc], terms: list[str], shown: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """Search results: posts in visible threads of a shown category, most matching words first, then newest.

    ``shown(category) -> bool`` says whether the flavour still has the thread's category.
    """
    wanted = set(terms)
    scored: list[tuple[int, datetime, Doc, Doc]] = []
    for doc in candidates:
        thread = threads.get(str(doc["thread_id"]))
        if thread is None or thread.get("status") != "visible" or not shown(str(thread["category"])):
            continue
        matches = len(wanted.intersection(doc.get("search_terms") or ()))
        scored.append((matches, doc["created_at"], doc, thread))
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [
        {"post": doc, "thread": thread, "matches": matches, "all": matches == len(wanted)}
        for matches, _, doc, thread in scored[:SEARCH_RESULTS]
    ]
