"""The DSA Transparency Database's statement-of-reasons dump layouts, value lists and our Parquet schema.

Layouts and values are those of the database's own export code
(github.com/digital-services-act/transparency-database: ``app/Exports/StatementExportTrait.php``,
``app/Services/DayArchiveService.php``, ``app/Models/Statement.php`` and the API documentation's
changelog in ``resources/markdown/api-documentation.md``):

- full layout: 38 columns; dumps made before the export gained ``content_id_ean`` (March 2025) have 37;
- light layout: the full layout without ``illegal_content_explanation``,
  ``incompatible_content_explanation``, ``territorial_scope`` and ``decision_facts`` (34 columns, 33
  before ``content_id_ean``);
- schema v1 (before 1 July 2025) and v2 (from 1 July 2025) differ in their category and keyword
  lists; both are accepted.

Cells that hold several values are JSON lists (``["DECISION_VISIBILITY_CONTENT_REMOVED"]``).
"""

from __future__ import annotations

import pyarrow as pa

FULL_COLUMNS: tuple[str, ...] = (
    "uuid",
    "decision_visibility", "decision_visibility_other", "end_date_visibility_restriction",
    "decision_monetary", "decision_monetary_other", "end_date_monetary_restriction",
    "decision_provision", "end_date_service_restriction",
    "decision_account", "end_date_account_restriction",
    "account_type",
    "decision_ground", "decision_ground_reference_url",
    "illegal_content_legal_ground", "illegal_content_explanation",
    "incompatible_content_ground", "incompatible_content_explanation", "incompatible_content_illegal",
    "category", "category_addition", "category_specification", "category_specification_other",
    "content_type", "content_type_other", "content_language", "content_date", "content_id_ean",
    "territorial_scope",
    "application_date",
    "decision_facts",
    "source_type", "source_identity",
    "automated_detection", "automated_decision",
    "platform_name", "platform_uid", "created_at",
)
LIGHT_DROPPED = ("illegal_content_explanation", "incompatible_content_explanation", "territorial_scope",
                 "decision_facts")
LIGHT_COLUMNS = tuple(c for c in FULL_COLUMNS if c not in LIGHT_DROPPED)
# Layouts the export has produced, by column count: the exact header is checked, not only its length.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "full-38": FULL_COLUMNS,
    "full-37": tuple(c for c in FULL_COLUMNS if c != "content_id_ean"),
    "light-34": LIGHT_COLUMNS,
    "light-33": tuple(c for c in LIGHT_COLUMNS if c != "content_id_ean"),
}

LIST_COLUMNS = ("decision_visibility", "category_addition", "category_specification", "content_type",
                "territorial_scope")
TIMESTAMP_COLUMNS = ("end_date_visibility_restriction", "end_date_monetary_restriction",
                     "end_date_service_restriction", "end_date_account_restriction", "content_date",
                     "application_date", "created_at")
BOOL_COLUMNS = ("automated_detection", "incompatible_content_illegal")

SOURCE_TYPES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
                "SOURCE_VOLUNTARY")
NOTICE_SOURCES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION")
AUTOMATED_DECISIONS = ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                       "AUTOMATED_DECISION_NOT_AUTOMATED")
DECISION_GROUNDS = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")

CATEGORIES_V2 = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
)
# v1 values that v2 renamed or dropped (API documentation, "Changelog").
CATEGORIES_V1_ONLY = (
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR", "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
)
CATEGORIES = CATEGORIES_V2 + CATEGORIES_V1_ONLY
V2_SINCE = "2025-07-01"

# The EU-27 and the EEA (EU + IS, LI, NO): a scope that lists every member is shown as one word.
EU27 = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
EEA = EU27 | {"IS", "LI", "NO"}

# Columns we add: where a row came from, and derived keys both engines group by without dialect.
PROVENANCE_COLUMNS = ("dump_file", "dump_sha1", "dump_part", "dump_row")
DERIVED_COLUMNS = ("application_day", "content_lag_days", "scope_key", "platform_slug")

_TS = pa.timestamp("us", tz="UTC")
_LIST = pa.list_(pa.string())


def _type(col: str) -> pa.DataType:
    if col in LIST_COLUMNS:
        return _LIST
    if col in TIMESTAMP_COLUMNS:
        return _TS
    if col in BOOL_COLUMNS:
        return pa.bool_()
    return pa.string()


STATEMENTS_SCHEMA = pa.schema(
    [pa.field(c, _type(c)) for c in FULL_COLUMNS]
    + [pa.field("application_day", pa.date32()), pa.field("content_lag_days", pa.int32()),
       pa.field("scope_key", pa.string()), pa.field("platform_slug", pa.string()),
       pa.field("dump_file", pa.string()), pa.field("dump_sha1", pa.string()),
       pa.field("dump_part", pa.string()), pa.field("dump_row", pa.int64())]
)
