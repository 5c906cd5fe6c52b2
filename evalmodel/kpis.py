"""Short English labels of the Kolada KPIs evalmodel uses (titles: ../shared/CONTEXT.md)."""

from __future__ import annotations

__all__ = ["ADVERSE", "KPI_LABELS", "label"]

KPI_LABELS: dict[str, str] = {
    "N31807": "share of inhabitants with assistance (%)",
    "N31825": "recipients 18+, % of population",
    "U31804": "young adults 18-24 with assistance (%)",
    "U31803": "children in families with assistance (%)",
    "N31814": "long-term recipients, % of adult recipients",
    "N31816": "long-term recipients, % of population",
    "U31801": "very long-term recipients (%)",
    "U31001": "assistance paid incl. refugee households, kr per inhabitant",
    "N31004": "assistance paid excl. refugee households, kr per inhabitant",
    "N31910": "households with assistance (count)",
    "N31848": "recipients (count)",
    "N01951": "inhabitants (count)",
    "N03937": "openly unemployed 18-65 (%)",
    "N03939": "openly unemployed 18-24 (%)",
    "N03935": "unemployed or in programmes 18-24 (%)",
    "N02267": "employment rate 20-64 (%)",
}


#: Direction in which a non-targeted outcome moving would mean displacement: employment
#: falling (-1); other outcomes (unemployment rates) rising (+1, the default).
ADVERSE: dict[str, int] = {"N00914": -1, "N02267": -1}


def label(kpi: str) -> str:
    """``"N31807: share of inhabitants with assistance (%)"``, or the id if unknown."""
    return f"{kpi}: {KPI_LABELS[kpi]}" if kpi in KPI_LABELS else kpi
