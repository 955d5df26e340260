select
    prediction_id,
    slug,
    title,
    headline_metric,
    cast(supported_at as double) as supported_at,
    cast(not_supported_below as double) as not_supported_below,
    kind,
    cast(first_year as integer) as first_year,
    repo_group,
    coalesce(own_quality_checks, false) as own_quality_checks
from {{ source('raw_registry', 'predictions') }}
