"""The parts of a :mod:`privacy.registry` entry: what one personal table is
called, how it is counted, listed, exported, erased and aged, and how its
rows are read for the export. The registry itself (one entry per personal
model) is :mod:`privacy.registry`.
"""

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.text import capfirst

from accounts.models import Profile, User
from privacy import export_rows

Row = export_rows.Row

# --- the parts of an entry ------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """One file of the export (``<name>.json``, and ``<name>.csv`` if tabular).

    Without ``rows`` the file holds the columns named by ``fields``, ordered
    by ``order``; a profile's rows come per profile, with its id and name.
    """

    name: str
    description: str
    fields: dict[str, str]
    rows: Callable[[User], list[Row]] | None = None  # a builder of its own
    model: type[models.Model] | None = None  # the table it holds, for row counts
    tabular: bool = True
    csv_rows: Callable[[list[Row]], list[Row]] | None = None  # flattening
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """One line of the inventory: a key, a label and what the data is for."""

    key: str
    label: str
    note: str = ""
    #: Of an entry split by a column (``PersonalData.split_by``): the rows
    #: with this value only.
    value: str | None = None


@dataclass(frozen=True)
class Counted:
    """Counted in the inventory (per profile, or for the account), with the
    dates of the first and last rows; one line, or one per value of the
    entry's ``split_by`` column."""

    lines: tuple[Line, ...]
    first: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class Apart:
    """Shown in a section of its own of a profile's inventory: the attribute of
    :class:`privacy.selectors.ProfileInventory` that holds its row."""

    attribute: str


@dataclass(frozen=True)
class Unlisted:
    """Not listed in the inventory, and why (it is still exported and erased)."""

    why: str


@dataclass(frozen=True)
class Item:
    """One row of an entry erasable on its own, under a kind name."""

    name: str  # the kind, in the ledger's URL, the erase API and the consent log
    label: str
    plural: str
    #: What deleting one changes, in the viewer's words, to follow "If
    #: deleted, " (so it may start in lower case).
    consequence: str
    in_ledger: bool = True


@dataclass(frozen=True)
class Ledger:
    """How an entry's rows read in the ledger: when, and what is shown."""

    at: str
    title: bool = True
    number: str | None = None  # the rating's stars, the play's progress
    text: str | None = None  # the search's query
    done: str | None = None  # a finished play


@dataclass(frozen=True, eq=False)  # one of a kind: compared and hashed by identity
class PersonalData:
    """One table of personal data, and how every part of the privacy app reads it."""

    model: type[models.Model]
    #: Its key: the category a profile erases it by, the inventory's key.
    name: str
    label: str  # plural, in the viewer's words
    #: The field it belongs through, to a profile or to the account; None for
    #: the account itself.
    owner: str | None
    export: Export | None = None  # None: every column, as ``other/<table>``
    inventory: Counted | Apart | Unlisted | None = None  # None: one line, counted
    #: Erased as a category of a profile's data (``name``).
    category: bool = False
    time_field: str | None = None  # latest activity: what retention compares
    retained: bool = False  # aged out by the retention window
    #: Recommendations learn from it: erasing a row refreshes the profile,
    #: drops its stored candidates and removes it from the model files.
    signal: bool = False
    #: Never used to choose titles, for its profile or anyone: "How
    #: recommendations work" lists it under what is never used, read from here.
    never_recommends: bool = False
    #: The column whose values name its item kinds and inventory lines.
    split_by: str | None = None
    items: tuple[Item, ...] = ()
    ledger: Ledger | None = None

    def __post_init__(self) -> None:
        export = self.export or _table_export(self)
        rows = export.rows or functools.partial(_described_rows, self, export)
        export = dataclasses.replace(export, model=self.model, rows=rows)
        object.__setattr__(self, "export", export)
        if self.inventory is None:
            object.__setattr__(self, "inventory", one_line(self.model))

    @property
    def by_profile(self) -> bool:
        return self.owner is not None and (
            self.model._meta.get_field(self.owner).related_model is Profile
        )

    @property
    def user_path(self) -> str:
        """The lookup from a row to the account's id."""
        if self.owner is None:
            return "pk"
        return f"{self.owner}__user" if self.by_profile else self.owner

    def rows_of(self, user: User) -> models.QuerySet:
        """The rows that belong to ``user`` or one of its profiles."""
        return self.model._default_manager.filter(**{self.user_path: user.pk})

    def rows_of_profile(self, profile: Profile) -> models.QuerySet:
        """The rows that belong to ``profile`` (none of an account's table)."""
        if self.model is Profile:
            return Profile.objects.filter(pk=profile.pk)
        if not self.by_profile:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(**{self.owner: profile})

    def item_filter(self, item: "Item | None") -> dict[str, str]:
        """The lookup that keeps its rows of kind ``item`` (all without one)."""
        return {self.split_by: item.name} if item and self.split_by else {}

    def item_of(self, row: models.Model) -> Item:
        """The item kind of one of its rows."""
        if self.split_by:
            return next(i for i in self.items if i.name == getattr(row, self.split_by))
        return self.items[0]


def counted(
    key: str, label: str, note: str, first: str | None = None, last: str | None = None
) -> Counted:
    """Counted on one line."""
    return Counted((Line(key, label, note),), first, last)


def one_line(model: type[models.Model]) -> Counted:
    plural = capfirst(str(model._meta.verbose_name_plural))
    return Counted((Line(model._meta.label_lower, plural),))


# --- how tables are read for the export --------------------------------------------

_PROFILE_COLUMNS = ("id", "profile_id", "profile")


def _described_rows(entry: PersonalData, export: Export, user: User) -> list[Row]:
    """The columns the export describes; a profile's rows per profile, named."""
    rows = entry.rows_of(user)
    if not entry.by_profile:
        return list(rows.order_by(*export.order).values(*export.fields))
    columns = [f for f in export.fields if f not in _PROFILE_COLUMNS]
    rows = rows.order_by("profile_id", *export.order, "id").values(
        "id", "profile_id", *columns
    )
    return export_rows.with_profile(rows, export_rows.profile_names(user))


def _table_rows(entry: PersonalData, fields: tuple[str, ...], user: User) -> list[Row]:
    return list(entry.rows_of(user).order_by("pk").values(*fields))


def _table_export(entry: PersonalData) -> Export:
    """Every column of the table, as it is, under ``other/``."""
    model = entry.model
    fields = {
        f.attname: str(getattr(f, "verbose_name", f.name))
        for f in model._meta.concrete_fields
    }
    return Export(
        f"other/{model._meta.app_label}_{model._meta.model_name}",
        f"The table {model._meta.label} ({model._meta.verbose_name}).",
        fields,
        rows=functools.partial(_table_rows, entry, tuple(fields)),
    )
