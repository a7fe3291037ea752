"""The matches found when an initiative was submitted, and what of the similar-initiative
index lives outside the models (engine-specific, made by migration 0026)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

# PostgreSQL: pg_trgm GIN indexes on the folded columns; SQLite: an FTS5 trigram table
# with its shadow tables. Neither can be said in the models: comparisons skip them.
TRIGRAM_INDEXES = ("ix_initiatives_similar_title_trgm", "ix_initiatives_similar_solution_trgm")
FTS_TABLE = "initiatives_similar_fts"


def modelled(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Whether a schema object is one the models describe (Alembic's ``include_name``)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE)
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


class InitiativeSimilarRow(Base):
    """An initiative close to another one when that one's version was submitted."""

    __tablename__ = "initiative_similars"

    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), primary_key=True)
    # A later near-duplicate belongs on the earlier one's card too: read by this side.
    similar_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), primary_key=True,
                                            index=True)  # fmt: skip
    version: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
