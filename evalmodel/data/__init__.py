"""evalmodel.data: sources -> tidy long frames -> Panels.

Kolada (:func:`kolada_panel`, :func:`fetch_kolada`, :class:`KoladaClient`), the verifiable
local cache (:class:`Cache`), SCB through PxWeb v2 (:func:`scb_table`, :func:`scb_benefits`,
:func:`read_scb_benefits`, :class:`PxWebClient`), downloaded files
(:func:`read_export`, :func:`read_cache`, :func:`read_district_panel`), one reader for them all
(:func:`read_panel`: a file or a cache folder -> a Panel of municipalities, by the same rules
that :func:`kolada_panel` applies to what it fetches) and the simulator that makes the
embedded default data (:mod:`evalmodel.data.simulate`). Socialstyrelsen's monthly files are
read by :func:`read_export` through :mod:`evalmodel.data.socialstyrelsen`.
"""

from __future__ import annotations

from evalmodel.data import simulate, socialstyrelsen
from evalmodel.data.cache import (
    ENV_VAR,
    Cache,
    CacheCorruptError,
    CacheMissError,
    Manifest,
    default_cache_dir,
)
from evalmodel.data.files import DISTRICT_COLUMNS, read_cache, read_district_panel, read_export
from evalmodel.data.kolada import (
    DEFAULT_BASE_URL,
    TIDY_COLUMNS,
    KoladaClient,
    KoladaEndpoints,
    tidy_values,
)
from evalmodel.data.kolada_panel import (
    CASE_KPIS,
    SERIES_BREAKS,
    SeriesBreak,
    fetch_kolada,
    kolada_panel,
    series_break_notes,
)
from evalmodel.data.pxweb import PxWebClient
from evalmodel.data.read import read_panel
from evalmodel.data.scb import (
    BENEFITS_TABLE,
    SCB_BASE_URL,
    read_scb_benefits,
    scb_benefits,
    scb_table,
)

__all__ = [
    "BENEFITS_TABLE",
    "CASE_KPIS",
    "DEFAULT_BASE_URL",
    "DISTRICT_COLUMNS",
    "ENV_VAR",
    "SCB_BASE_URL",
    "SERIES_BREAKS",
    "TIDY_COLUMNS",
    "Cache",
    "CacheCorruptError",
    "CacheMissError",
    "KoladaClient",
    "KoladaEndpoints",
    "Manifest",
    "PxWebClient",
    "SeriesBreak",
    "default_cache_dir",
    "fetch_kolada",
    "kolada_panel",
    "read_cache",
    "read_district_panel",
    "read_export",
    "read_panel",
    "read_scb_benefits",
    "scb_benefits",
    "scb_table",
    "series_break_notes",
    "simulate",
    "socialstyrelsen",
    "tidy_values",
]
