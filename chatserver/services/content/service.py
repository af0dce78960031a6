"""The content service: items and stories, the workflow, the public pages and the featured lists, built together and
offered as one door (the pages, the spreekuur transcripts and the home page use it)."""

from __future__ import annotations

from collections.abc import Iterable

from chatserver.ports import Clock, ContentStore
from chatserver.ports.reflectie import Counter
from chatserver.services.content.featured import FeaturedLists
from chatserver.services.content.items import ContentItems
from chatserver.services.content.public import PublicContent
from chatserver.services.content.workflow import ContentWorkflow


class ContentService:
    """The only door to content.

    Each concept is its own object (``items``, ``workflow``, ``public``, ``featured_lists``); their use cases are
    also reachable here by name.
    """

    def __init__(
        self,
        repo: ContentStore,
        catalog_names: dict[str, str],
        *,
        clock: Clock,
        counter: Counter,
        second_reviewer: Iterable[str] = (),
    ) -> None:
        self.repo = repo
        self.catalog_names = catalog_names
        self.clock = clock
        self.items = ContentItems(repo, catalog_names, clock)
        self.workflow = ContentWorkflow(repo, self.items, clock, second_reviewer)
        self.public = PublicContent(repo, clock, counter)
        self.featured_lists = FeaturedLists(repo, catalog_names, clock)

        # editors and members writing
        items = self.items
        self.access_item = items.access_item
        self.editor_flavours = items.editor_flavours
        self.check_draft = items.check_draft
        self.create = items.create
        self.save = items.save
        self.staff_items = items.staff_items
        self.revisions = items.revisions
        self.revision = items.revision
        self.submit_story = items.submit_story
        self.my_stories = items.my_stories
        # the workflow
        self.change_status = self.workflow.change_status
        self.needs_second_reviewer = self.workflow.needs_second_reviewer
        self.actions_for = self.workflow.actions_for
        # the public pages and the featured lists
        self.public_page = self.public.public_page
        self.public_item = self.public.public_item
        self.featured = self.featured_lists.featured
        self.featured_admin = self.featured_lists.featured_admin
        self.change_featured = self.featured_lists.change_featured
